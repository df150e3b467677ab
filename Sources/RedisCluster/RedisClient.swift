import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Redis client for a Redis Cluster (or one standalone server): non-blocking, pipelined, cluster-aware.
///
/// Commands are routed by the ``HashSlot`` of their keys to the master that serves it. A pipeline is split by node
/// and each node's share is sent in one write, all nodes at once; `MOVED` replies update the slot map (and trigger a
/// refresh from `CLUSTER SLOTS`), `ASK` replies send the command to the migration target behind `ASKING`, and
/// `TRYAGAIN` retries after a pause, so commands on a slot that is being moved still succeed.
///
/// Run the client as a `Service` (in a `ServiceGroup` or a task group): it refreshes the slot map periodically and
/// closes its connections when ``run()`` returns. Commands work before `run()` starts; connections are made on first
/// use and remade when they break.
public final class RedisClient: Sendable, Service {
    struct State {
        var topology: RedisClusterTopology?
        /// The refresh in flight, which every caller that needs one waits for instead of starting another.
        var refresh: EventLoopFuture<RedisClusterTopology>?
        var nodes: [RedisNodeAddress: RedisNodeConnections] = [:]
        var isShutDown = false
    }

    /// What this client was made with.
    public let configuration: Configuration
    /// Where the connections live (and where work that mostly waits for Redis runs best).
    public let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let state: Mutex<State>

    /// Creates a client; it connects lazily.
    /// - Parameters:
    ///   - configuration: where Redis is and the client's limits.
    ///   - eventLoopGroup: where the connections live.
    ///   - logger: for connection failures and slot map changes.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        switch configuration.mode {
        case .cluster:
            state = Mutex(State())
        case .standalone(let address):
            state = Mutex(State(topology: RedisClusterTopology(standalone: address)))
        }
    }

    /// Sends one command to the node that serves its keys (any node if it has none) and returns its reply.
    ///
    /// - Throws: ``RedisError/Code/serverError`` (or ``RedisError/Code/clusterDown``) with the server's text when it
    ///   answers with an error; the transport and routing errors of ``pipeline(_:)``.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        try await pipeline([command])[0]
    }

    /// Sends many commands at once and returns their replies in the same order, or throws if the server refused
    /// any of them.
    ///
    /// A refusal is never a success: an error reply to any command (`OOM`, `READONLY`, `MISCONF`, `CLUSTERDOWN`,
    /// `LOADING`, `WRONGTYPE`, ...) throws ``RedisError/Code/serverError`` (``RedisError/Code/clusterDown`` for
    /// `CLUSTERDOWN`) naming the first refused command, after every reply has arrived. The other commands of the
    /// pipeline may have run; every caller's writes are idempotent, so it retries the whole pipeline.
    ///
    /// - Parameter replication: when given, every node's share must reach that many replicas (see
    ///   ``RedisReplication``).
    /// - Throws: what ``pipelineReplies(_:replicatedTo:)`` throws, and the first error reply.
    public func pipeline(
        _ commands: [RedisCommand], replicatedTo replication: RedisReplication? = nil
    ) async throws(RedisError) -> [RedisValue] {
        let replies = try await pipelineReplies(commands, replicatedTo: replication)
        for (index, reply) in replies.enumerated() {
            if case .error(let text) = reply {
                let refused = RedisError.fromReply(text)
                let name = String(decoding: commands[index].arguments[0], as: UTF8.self)
                throw RedisError(refused.code, "\(name) (command \(index + 1) of \(commands.count)): \(text)")
            }
        }
        return replies
    }

    /// Sends many commands at once and returns their replies in the same order, error replies included.
    ///
    /// The commands are grouped by node; each node gets its group, in the caller's order, in one write, and all
    /// nodes are written concurrently. Redirected commands are sent again where the cluster says, in later rounds.
    /// Commands for different nodes run in no particular order relative to each other.
    ///
    /// - Returns: one reply per command. A command that failed on the server has an ``RedisValue/error(_:)`` reply
    ///   in its place; this method does not throw for it (``pipeline(_:replicatedTo:)`` does). For callers that look
    ///   at each error themselves.
    /// - Throws: ``RedisError/Code/notReplicated`` when `replication` was asked for and a node's replicas did not
    ///   confirm in time; ``RedisError/Code/crossSlot`` before sending anything if a command's keys are in different slots;
    ///   ``RedisError/Code/tooManyRedirects``; ``RedisError/Code/unavailable`` when a node cannot be reached even
    ///   after a refresh of the slot map; ``RedisError/Code/timeout``, ``RedisError/Code/connectionClosed`` or
    ///   ``RedisError/Code/protocolError`` when a connection broke with commands in flight, which may or may not
    ///   have run (they are not retried, since running them twice might not be harmless).
    public func pipelineReplies(
        _ commands: [RedisCommand], replicatedTo replication: RedisReplication? = nil
    ) async throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        var plan = try RedisPipelinePlan(
            commands: commands, maxRedirects: configuration.maxRedirects, followsRedirects: isCluster
        )
        while !plan.isComplete {
            let topology = try await currentTopology()
            let fallback = topology.masters.first ?? topology.nodes[0]
            let batches = plan.batches(in: topology, fallback: fallback)
            // WAIT on the connection that wrote, after its writes: it covers exactly this node's share.
            let sent =
                replication.map { replication in
                    batches.map { batch in
                        var batch = batch
                        batch.commands.append(replication.waitCommand)
                        return batch
                    }
                } ?? batches
            let outcomes = await execute(sent)
            var feedback = RedisPipelinePlan.Feedback()
            var mustRefresh = false
            var broken: RedisError?
            for (batch, outcome) in zip(batches, outcomes) {
                switch outcome {
                case .success(var replies):
                    if let replication, let shortfall = replication.shortfall(popping: &replies, from: batch.node) {
                        broken = broken ?? shortfall
                    }
                    try plan.record(replies, for: batch, into: &feedback)
                case .failure(let error) where error.code == .unavailable:
                    mustRefresh = true
                    try plan.retry(batch, after: error)
                case .failure(let error):
                    mustRefresh = true
                    broken = broken ?? error
                }
            }
            if isCluster, mustRefresh || !feedback.moved.isEmpty {
                await refreshTopology(applying: feedback.moved)
            }
            if let broken {
                throw broken
            }
            if feedback.mustPause {
                try? await Task.sleep(for: configuration.tryAgainDelay * feedback.redirects)
            }
        }
        return plan.replies
    }

    /// Sends `command` to every master (the one server in standalone mode) and returns their replies, in the order
    /// of the masters' addresses. For commands that concern a node rather than a key: `DBSIZE`, `FLUSHALL`,
    /// `SCAN`, `INFO`.
    ///
    /// - Throws: ``RedisError/Code/serverError`` when any master answers with an error; the transport errors of
    ///   ``pipeline(_:)``.
    public func onAllMasters(_ command: RedisCommand) async throws(RedisError) -> [RedisValue] {
        let masters = try await currentTopology().masters
        let batches = masters.map { RedisPipelinePlan.Batch(node: $0, positions: [0], commands: [command]) }
        var replies: [RedisValue] = []
        for (master, outcome) in zip(masters, await execute(batches)) {
            switch outcome {
            case .success(let values):
                if case .error(let text) = values[0] {
                    throw RedisError(RedisError.fromReply(text).code, "\(master): \(text)")
                }
                replies.append(values[0])
            case .failure(let error):
                if isCluster {
                    await refreshTopology(applying: [])
                }
                throw error
            }
        }
        return replies
    }

    /// The masters the client currently knows, sorted by address (the one server in standalone mode).
    public func masters() async throws(RedisError) -> [RedisNodeAddress] {
        try await currentTopology().masters
    }

    /// Refreshes the slot map now; ``run()`` does so periodically and redirects do so on their own.
    public func refreshTopology() async throws(RedisError) {
        _ = try await loadTopology()
    }

    /// Refreshes the slot map every ``Configuration/topologyRefreshInterval`` until a graceful shutdown or
    /// cancellation, then closes every connection.
    public func run() async throws {
        if isCluster, let interval = configuration.topologyRefreshInterval {
            try? await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    do {
                        _ = try await self.loadTopology()
                    } catch {
                        self.logger.warning("periodic Redis slot map refresh failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        shutDown()
    }

    /// Closes every connection; later commands fail with ``RedisError/Code/unavailable``.
    func shutDown() {
        let nodes = state.withLock { state in
            state.isShutDown = true
            return Array(state.nodes.values)
        }
        for node in nodes {
            node.close()
        }
    }

    var isCluster: Bool {
        if case .cluster = configuration.mode { return true }
        return false
    }
}
