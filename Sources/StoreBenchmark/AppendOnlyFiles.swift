import Logging
import RedisCluster

/// The cluster's append-only files, compacted before a timed run so that a rewrite the set-up made due does not land in
/// whichever run comes next.
///
/// Every node of `scripts/infra` logs to an append-only file and rewrites it once it has doubled (Redis's
/// `auto-aof-rewrite-percentage 100`). A fan-out set-up writes three commands per active follower, so the rewrite it
/// causes forks every node and compresses its whole data set on the same two cores, during the baseline or during
/// ours, depending on timing. Rewriting them all first, and waiting until every node is done, starts each timed run
/// from the same state; a rewrite that the timed run's own writes cause still counts against it.
enum AppendOnlyFiles {
    /// Asks every node, masters and replicas, to rewrite its file and waits until none is rewriting; returns the
    /// number of nodes. Each node is reached by a client of its own: the cluster client keeps connections to masters
    /// only, and closes any other when it refreshes its slot map.
    static func compact(_ redis: RedisClient, logger: Logger) async throws -> Int {
        let nodes = try await redis.allNodes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask { try await compact(node, logger: logger) }
            }
            try await group.waitForAll()
        }
        return nodes.count
    }

    private static func compact(_ node: RedisNodeAddress, logger: Logger) async throws {
        let client = RedisClient(configuration: RedisClient.Configuration(mode: .standalone(node)), logger: logger)
        let running = Task { try await client.run() }
        defer { running.cancel() }
        // An error reply (`... already in progress`) means a rewrite is running: waiting for it is as good.
        _ = try await client.pipelineReplies([RedisCommand("BGREWRITEAOF")], replicatedTo: nil)
        while isRewriting(try await client.send(RedisCommand("INFO", "persistence"))) {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Whether an `INFO persistence` reply shows a rewrite running or scheduled (scheduled: waiting for another child,
    /// such as an RDB save, to end).
    private static func isRewriting(_ reply: RedisValue) -> Bool {
        guard let text = reply.string else { return true }
        return text.contains("aof_rewrite_in_progress:1") || text.contains("aof_rewrite_scheduled:1")
    }
}
