/// How many replicas must hold a pipeline's writes before the pipeline counts as done.
///
/// Redis replicates asynchronously: a master that crashes right after answering can take writes with it, and its
/// replica, promoted, never saw them. With a replication requirement the client ends each node's share of a
/// pipeline with `WAIT replicas timeout` on the same connection, and fails the pipeline with
/// ``RedisError/Code/notReplicated`` when fewer replicas confirmed in time (the writes may still be on the master; a
/// caller that retries must be idempotent, as ours are).
public struct RedisReplication: Sendable, Hashable {
    /// Replicas that must confirm.
    public var replicas: Int
    /// How long the master waits for them.
    public var timeout: Duration

    public init(replicas: Int = 1, timeout: Duration = .seconds(1)) {
        self.replicas = replicas
        self.timeout = timeout
    }

    /// The command that ends a node's share of the pipeline.
    var waitCommand: RedisCommand {
        RedisCommand(
            "WAIT", replicas,
            Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Takes the reply to ``waitCommand`` off the end of a node's replies and tells whether it fell short.
    /// - Returns: ``RedisError/Code/notReplicated`` when fewer replicas confirmed than asked; `nil` when enough did.
    func shortfall(popping replies: inout [RedisValue], from node: RedisNodeAddress) -> RedisError? {
        let confirmed = replies.popLast()
        guard (confirmed?.integer ?? 0) < Int64(replicas) else { return nil }
        return RedisError(
            .notReplicated, "\(node): \(confirmed ?? .null) of \(replicas) replicas confirmed within \(timeout)")
    }
}
