import Logging
import Metrics
import Synchronization

/// The tweet store's PostgreSQL servers behind a ``ShardMap``: routes work for a logical shard to its server's pool.
public final class ShardedDatabase: Sendable {
    public let shardMap: ShardMap
    private let pools: [PostgresPool]
    private let shardCalls = Atomic<Int>(0)
    private let shardCallCounter = Counter(label: "tweet_service_shard_calls_total")

    /// - Parameters:
    ///   - servers: one libpq connection string per physical server, in shard-map order.
    public init(servers: [String], shardMap: ShardMap, connectionsPerServer: Int = 8, logger: Logger) {
        precondition(servers.count == shardMap.serverCount, "the shard map names \(shardMap.serverCount) servers")
        self.shardMap = shardMap
        self.pools = servers.map {
            PostgresPool(configuration: PostgresPool.Configuration(conninfo: $0, connections: connectionsPerServer), logger: logger)
        }
    }

    /// Runs `body` on the server holding `shard`, with the shard's schema name.
    @discardableResult
    public func withShard<Result: Sendable>(
        _ shard: Int,
        _ body: @escaping @Sendable (PostgresConnection, _ schema: String) throws -> Result
    ) async throws -> Result {
        let schema = ShardMap.schema(ofShard: shard)
        shardCalls.add(1, ordering: .relaxed)
        shardCallCounter.increment()
        return try await pools[shardMap.server(ofShard: shard)].withConnection { try body($0, schema) }
    }

    /// Runs `body` on every physical server at once, with the shards it holds.
    public func onEveryServer<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for (server, pool) in pools.enumerated() {
                let shards = shardMap.serverOfShard.indices.filter { shardMap.serverOfShard[$0] == server }
                group.addTask { (server, try await pool.withConnection { try body($0, shards) }) }
            }
            var results: [(Int, Result)] = []
            for try await result in group {
                results.append(result)
            }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Runs `body` once per shard, concurrently, and returns the results by shard.
    public func onShards<Result: Sendable>(
        _ shards: some Sequence<Int>,
        _ body: @escaping @Sendable (PostgresConnection, _ shard: Int, _ schema: String) throws -> Result
    ) async throws -> [Int: Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for shard in shards {
                group.addTask { (shard, try await self.withShard(shard) { try body($0, shard, $1) }) }
            }
            var results: [Int: Result] = [:]
            for try await (shard, result) in group {
                results[shard] = result
            }
            return results
        }
    }

    /// Calls of ``withShard(_:_:)`` so far: each is one trip to a server (a statement, or a few in one job).
    public var shardCallCount: Int { shardCalls.load(ordering: .relaxed) }

    public func shutdown() async throws {
        for pool in pools {
            try await pool.shutdown()
        }
    }
}
