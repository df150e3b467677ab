import Logging
import Metrics
import Synchronization

/// The tweet store's PostgreSQL servers behind a ``ShardMap``: routes work for a logical shard to its server's pool.
public final class ShardedDatabase: Sendable {
    public let shardMap: ShardMap
    private let pools: [PostgresPool]
    /// Where ``ReadSource/caughtUpReplica`` reads go first; without it they go to the primaries.
    private let replicas: ReplicaReads?
    private let trips = Atomic<Int>(0)
    private let tripCounter = Counter(label: "tweet_service_server_trips_total")

    /// - Parameters:
    ///   - servers: one libpq connection string per physical server, in shard-map order.
    ///   - replicas: the servers' streaming replicas, for lag-tolerant reads.
    public init(
        servers: [String], shardMap: ShardMap, connectionsPerServer: Int = 8, replicas: ReplicaReads? = nil,
        logger: Logger
    ) {
        precondition(servers.count == shardMap.serverCount, "the shard map names \(shardMap.serverCount) servers")
        self.shardMap = shardMap
        self.replicas = replicas
        self.pools = servers.map {
            PostgresPool(
                configuration: PostgresPool.Configuration(conninfo: $0, connections: connectionsPerServer),
                logger: logger)
        }
    }

    /// Runs `body` on the server holding `shard` (on its replica if `source` allows and it has caught up), with the
    /// shard's schema name.
    @discardableResult
    public func withShard<Result: Sendable>(
        _ shard: Int, from source: ReadSource = .primary,
        _ body: @escaping @Sendable (PostgresConnection, _ schema: String) throws -> Result
    ) async throws -> Result {
        let schema = ShardMap.schema(ofShard: shard)
        return try await trip(toServer: shardMap.server(ofShard: shard), from: source) { try body($0, schema) }
    }

    /// Runs `body` once on each server that holds any of `shards`, concurrently, with those of its shards: one trip
    /// per server, however many shards, for reads that can ask all of a server's shards in one statement.
    public func onServers<Result: Sendable>(
        holding shards: some Sequence<Int>, from source: ReadSource = .primary,
        _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> [Result] {
        let byServer = Dictionary(grouping: Set(shards), by: shardMap.server(ofShard:))
        return try await withThrowingTaskGroup(of: Result.self) { group in
            for (server, serverShards) in byServer {
                group.addTask {
                    try await self.trip(toServer: server, from: source) { try body($0, serverShards.sorted()) }
                }
            }
            var results: [Result] = []
            for try await result in group {
                results.append(result)
            }
            return results
        }
    }

    /// Runs `body` on one physical server, with the shards it holds.
    public func onServer<Result: Sendable>(
        _ server: Int, _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> Result {
        let shards = shardMap.serverOfShard.indices.filter { shardMap.serverOfShard[$0] == server }
        return try await trip(toServer: server) { try body($0, shards) }
    }

    /// Runs `body` on every physical server at once, with the shards it holds.
    public func onEveryServer<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for server in pools.indices {
                let shards = shardMap.serverOfShard.indices.filter { shardMap.serverOfShard[$0] == server }
                group.addTask { (server, try await self.trip(toServer: server) { try body($0, shards) }) }
            }
            var results: [(Int, Result)] = []
            for try await result in group {
                results.append(result)
            }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Runs `body` once per shard, concurrently, and returns the results by shard.
    /// - Parameter waitingAtMost: how long each may wait for a connection; the pool's bound unless given.
    public func onShards<Result: Sendable>(
        _ shards: some Sequence<Int>,
        waitingAtMost maxWait: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection, _ shard: Int, _ schema: String) throws -> Result
    ) async throws -> [Int: Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for shard in shards {
                group.addTask {
                    let schema = ShardMap.schema(ofShard: shard)
                    let server = self.shardMap.server(ofShard: shard)
                    return (
                        shard,
                        try await self.trip(toServer: server, waitingAtMost: maxWait) { try body($0, shard, schema) }
                    )
                }
            }
            var results: [Int: Result] = [:]
            for try await (shard, result) in group {
                results[shard] = result
            }
            return results
        }
    }

    /// Reads rows for ids grouped by shard with one statement per server, however many shards the ids touch.
    ///
    /// `branch(schema, ids)` writes one shard's `SELECT`, with `ids` the placeholder of that shard's ids (a
    /// `bigint[]`); `$1`…`$n` are `sharedParameters`. The branches, each in parentheses (so each may have its own
    /// `ORDER BY` and `LIMIT`), are joined with `UNION ALL`. A server asked about one shard only (the common case:
    /// one user, one author's tweets) runs that shard's branch as a prepared statement (named after its text), so its
    /// plan is made once per connection.
    public func select<Row: Sendable>(
        idsByShard: [Int: [Int64]],
        sharedParameters: [String?] = [],
        from source: ReadSource = .primary,
        branch: @escaping @Sendable (_ schema: String, _ ids: String) -> String,
        decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        try await onServers(holding: idsByShard.keys, from: source) { connection, shards in
            let first = sharedParameters.count + 1
            let parameters = sharedParameters + shards.map { idsByShard[$0, default: []].postgresArray }
            if shards.count == 1 {
                let schema = ShardMap.schema(ofShard: shards[0])
                let statement = PreparedStatement(sql: branch(schema, "$\(first)::bigint[]"))
                return try connection.execute(statement, parameters).all.map(decode)
            }
            let statement = shards.enumerated().map { index, shard in
                "(" + branch(ShardMap.schema(ofShard: shard), "$\(first + index)::bigint[]") + ")"
            }.joined(separator: " UNION ALL ")
            return try connection.query(statement, parameters).all.map(decode)
        }.flatMap { $0 }
    }

    /// Trips to a server so far (each a statement, or a few in one job on one connection), however they were asked
    /// for: what tests count to check that batches are grouped.
    public var tripCount: Int { trips.load(ordering: .relaxed) }

    private func trip<Result: Sendable>(
        toServer server: Int, waitingAtMost maxWait: Duration? = nil, from source: ReadSource = .primary,
        _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        trips.add(1, ordering: .relaxed)
        tripCounter.increment()
        guard source == .caughtUpReplica, let replicas else {
            return try await pools[server].withConnection(waitingAtMost: maxWait, body)
        }
        return try await replicas.read(onServer: server, body) {
            try await pools[server].withConnection(waitingAtMost: maxWait, body)
        }
    }

    public func shutdown() async throws {
        for pool in pools {
            try await pool.shutdown()
        }
    }
}
