import Logging
import Metrics
import Synchronization

/// The tweet store's PostgreSQL servers behind a ``ShardMap``: routes work for a logical shard to its server's pool.
///
/// The map is either fixed for the life of the object (tests, benchmarks) or read from a ``ShardCatalog`` and
/// refreshed while serving (``open(servers:logicalShards:connectionsPerServer:logger:)``). With a catalog, a shard
/// can move to another server under traffic: its old location refuses every statement from the moment the move
/// freezes it (its schema is renamed), and work that meets such a refusal reads the catalog again and runs once more
/// where the shard is now, for up to ``moveRetryWindow``. Work that failed has not taken effect, so running it again
/// is safe; callers see at most a short delay, not an error.
public final class ShardedDatabase: Sendable {
    /// Where each shard is, and a pool for every server the map names.
    private struct Placement: Sendable {
        var map: ShardMap
        var version: Int64
        var pools: [PostgresPool]
    }

    private let placement: Mutex<Placement>
    private let catalog: ShardCatalog?
    /// The refresh under way, which every caller that needs one awaits instead of reading the catalog itself.
    private let refreshing = Mutex<Task<Bool, any Error>?>(nil)
    private let connectionsPerServer: Int
    /// Where ``ReadSource/caughtUpReplica`` reads go first; without it they go to the primaries.
    private let replicas: ReplicaReads?
    private let logger: Logger
    private let trips = Atomic<Int>(0)
    private let tripCounter = Counter(label: "tweet_service_server_trips_total")
    private let mapRefreshes = Counter(label: "tweet_service_shard_map_refreshes_total")
    private let movedShardRetries = Counter(label: "tweet_service_moved_shard_retries_total")
    /// Whether every shard's schema was created where the catalog first placed it (always, without a catalog).
    let schemasCreated: Atomic<Bool>

    /// How long work keeps retrying a shard whose schema is missing where the map says it is: a move renames the old
    /// schema a moment before it changes the catalog.
    public static let moveRetryWindow: Duration = .seconds(2)

    /// A fixed map, with no catalog.
    /// - Parameters:
    ///   - servers: one libpq connection string per physical server, in shard-map order.
    ///   - replicas: the servers' streaming replicas, for lag-tolerant reads.
    public init(
        servers: [String], shardMap: ShardMap, connectionsPerServer: Int = 8, replicas: ReplicaReads? = nil,
        logger: Logger
    ) {
        precondition(servers.count == shardMap.serverCount, "the shard map names \(shardMap.serverCount) servers")
        self.connectionsPerServer = connectionsPerServer
        self.replicas = replicas
        self.logger = logger
        self.catalog = nil
        self.schemasCreated = Atomic(false)
        self.placement = Mutex(Placement(map: shardMap, version: 0, pools: []))
        placement.withLock { $0.pools = servers.map(makePool) }
    }

    private init(
        catalog: ShardCatalog, snapshot: ShardCatalog.Snapshot, connectionsPerServer: Int, replicas: ReplicaReads?,
        logger: Logger
    ) {
        self.connectionsPerServer = connectionsPerServer
        self.replicas = replicas
        self.logger = logger
        self.catalog = catalog
        self.schemasCreated = Atomic(snapshot.schemasCreated)
        self.placement = Mutex(Placement(map: snapshot.map, version: snapshot.version, pools: []))
        placement.withLock { $0.pools = snapshot.servers.map(makePool) }
    }

    /// The servers and map that the catalog on `servers[0]` holds, creating the catalog (the map: equal contiguous
    /// ranges over `servers`) if there is none yet. Once it exists, the catalog names the servers; the rest of
    /// `servers` is not read again.
    /// - Parameter replicas: streaming replicas of the catalog's servers by server number, for lag-tolerant reads (a
    ///   server added later has none: its reads go to it).
    public static func open(
        servers: [String], logicalShards: Int = 1024, connectionsPerServer: Int = 8, replicas: ReplicaReads? = nil,
        logger: Logger
    ) async throws -> ShardedDatabase {
        precondition(!servers.isEmpty, "at least one server")
        let catalog = ShardCatalog(conninfo: servers[0], logger: logger)
        let snapshot = try await catalog.bootstrap(servers: servers, logicalShards: logicalShards)
        if snapshot.servers != servers {
            logger.notice(
                "the shard catalog names other servers than those given; using the catalog's",
                metadata: ["catalog": "\(snapshot.servers.map(PostgresPool.redacted))"])
        }
        return ShardedDatabase(
            catalog: catalog, snapshot: snapshot, connectionsPerServer: connectionsPerServer, replicas: replicas,
            logger: logger)
    }

    /// The map now.
    public var shardMap: ShardMap { placement.withLock { $0.map } }

    /// The catalog version of the map now (0 without a catalog).
    public var shardMapVersion: Int64 { placement.withLock { $0.version } }

    /// Reads the catalog's version and, when it moved, the whole map; returns whether the map changed. Callers that
    /// ask while a refresh runs share it.
    @discardableResult
    public func refreshShardMap() async throws -> Bool {
        guard let catalog else { return false }
        let task = refreshing.withLock { current in
            if let current { return current }
            let task = Task {
                defer { self.refreshing.withLock { $0 = nil } }
                guard try await catalog.version() != self.shardMapVersion else { return false }
                return self.apply(try await catalog.snapshot())
            }
            current = task
            return task
        }
        return try await task.value
    }

    private func apply(_ snapshot: ShardCatalog.Snapshot) -> Bool {
        let changed = placement.withLock { placement in
            guard snapshot.version > placement.version else { return false }
            placement.map = snapshot.map
            placement.version = snapshot.version
            for conninfo in snapshot.servers.dropFirst(placement.pools.count) {
                placement.pools.append(makePool(conninfo))
            }
            return true
        }
        if changed {
            mapRefreshes.increment()
            schemasCreated.store(snapshot.schemasCreated, ordering: .relaxed)
            logger.info("shard map changed", metadata: ["version": "\(snapshot.version)"])
        }
        return changed
    }

    /// Records in the catalog that every shard's schema exists (see ``SchemaMigrator``).
    func markSchemasCreated() async throws {
        guard let catalog else { return }
        try await catalog.markSchemasCreated()
        schemasCreated.store(true, ordering: .relaxed)
    }

    private func makePool(_ conninfo: String) -> PostgresPool {
        PostgresPool(
            configuration: PostgresPool.Configuration(conninfo: conninfo, connections: connectionsPerServer),
            logger: logger)
    }

    /// Runs `operation`, and again after reading the catalog when a shard's schema was missing where the map said:
    /// the shard moved, or is moving. Without a catalog, runs it once.
    private func followingMoves<Result>(_ operation: () async throws -> Result) async throws -> Result {
        guard catalog != nil else { return try await operation() }
        let deadline = ContinuousClock.now + Self.moveRetryWindow
        while true {
            do {
                return try await operation()
            } catch let error as PostgresError where error.isMissingSchema {
                guard ContinuousClock.now < deadline else {
                    // A move that stopped between its freeze and its flip: the shard waits for the mover's re-run.
                    throw PostgresError(.unavailable, sqlState: error.sqlState, "shard moving: \(error.message)")
                }
                movedShardRetries.increment()
                // The map changed: try the new location at once. It did not: the move froze the shard a moment
                // before it changes the catalog, so wait a little.
                if (try? await refreshShardMap()) != true {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
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
        return try await followingMoves {
            try await trip(toServer: shardMap.server(ofShard: shard), from: source) { try body($0, schema) }
        }
    }

    /// Runs `body` once on each server that holds any of `shards`, concurrently, with those of its shards: one trip
    /// per server, however many shards, for reads that can ask all of a server's shards in one statement.
    public func onServers<Result: Sendable>(
        holding shards: some Sequence<Int>, from source: ReadSource = .primary,
        _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> [Result] {
        let shards = Set(shards)
        return try await followingMoves {
            let byServer = Dictionary(grouping: shards, by: shardMap.server(ofShard:))
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
    }

    /// Runs `body` on one physical server, with the shards it holds.
    public func onServer<Result: Sendable>(
        _ server: Int, _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> Result {
        try await followingMoves {
            try await trip(toServer: server) { try body($0, self.shardMap.shards(onServer: server)) }
        }
    }

    /// Runs `body` on every physical server at once, with the shards it holds.
    public func onEveryServer<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ shards: [Int]) throws -> Result
    ) async throws -> [Result] {
        try await followingMoves {
            let map = shardMap
            return try await withThrowingTaskGroup(of: (Int, Result).self) { group in
                for server in 0..<map.serverCount {
                    let shards = map.shards(onServer: server)
                    group.addTask { (server, try await self.trip(toServer: server) { try body($0, shards) }) }
                }
                var results: [(Int, Result)] = []
                for try await result in group {
                    results.append(result)
                }
                return results.sorted { $0.0 < $1.0 }.map(\.1)
            }
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
                    let result = try await self.followingMoves {
                        try await self.trip(toServer: self.shardMap.server(ofShard: shard), waitingAtMost: maxWait) {
                            try body($0, shard, schema)
                        }
                    }
                    return (shard, result)
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
        let pool = placement.withLock { $0.pools[server] }
        guard source == .caughtUpReplica, let replicas else {
            return try await pool.withConnection(waitingAtMost: maxWait, body)
        }
        return try await replicas.read(onServer: server, body) {
            try await pool.withConnection(waitingAtMost: maxWait, body)
        }
    }

    public func shutdown() async throws {
        for pool in placement.withLock({ $0.pools }) {
            try await pool.shutdown()
        }
        try await catalog?.shutdown()
    }
}
