import Logging

/// The durable, versioned shard map: which physical server holds each logical shard, kept in the schema
/// `tweeter_catalog` of the first server a TweetService is given (the catalog server).
///
/// Every TweetService instance reads it at start and again whenever its ``version`` moves (a short poll, and at once
/// when a shard's old location refuses a statement), so all instances agree on the map. Only ``ShardMover`` changes
/// a shard's server, by one transaction that also bumps the version. Servers are numbered in the order they joined;
/// a server is never renumbered, so a number in a log line or a metric means the same server for the catalog's life.
public struct ShardCatalog: Sendable {
    /// What one read of the catalog says.
    public struct Snapshot: Sendable, Hashable {
        /// Bumped by every change of a shard's server.
        public let version: Int64
        /// libpq connection strings, indexed by server number.
        public let servers: [String]
        public let map: ShardMap
        /// Whether every shard's schema was created on its first server. Until then only the schema migrator may
        /// create schemas; after it, a schema that is missing is a shard in the middle of a move, never one to create.
        public let schemasCreated: Bool
    }

    let pool: PostgresPool

    /// - Parameter conninfo: the catalog server: the first of the servers the TweetService is given.
    public init(conninfo: String, logger: Logger) {
        self.pool = PostgresPool(
            configuration: PostgresPool.Configuration(conninfo: conninfo, connections: 1), logger: logger)
    }

    /// Creates the catalog if it does not exist, placing `logicalShards` shards in equal contiguous ranges over
    /// `servers`, and returns what it holds. Safe to call from many processes at once: the first one writes it.
    /// - Throws: ``ShardCatalogError/logicalShardsDiffer`` when the catalog was made with another shard count.
    public func bootstrap(servers: [String], logicalShards: Int) async throws -> Snapshot {
        let snapshot = try await pool.withConnection { connection in
            try connection.transaction { connection in
                try connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
                try connection.execute(script: "SET LOCAL client_min_messages TO warning;" + Self.schema)
                if try connection.query("SELECT 1 FROM tweeter_catalog.shard_map").isEmpty {
                    let map = ShardMap(logicalShards: logicalShards, servers: servers.count)
                    for (id, conninfo) in servers.enumerated() {
                        try connection.query(
                            "INSERT INTO tweeter_catalog.servers (id, conninfo) VALUES ($1, $2)",
                            [String(id), conninfo])
                    }
                    try connection.query(
                        """
                        INSERT INTO tweeter_catalog.placements (shard, server)
                        SELECT shard - 1, server FROM unnest($1::bigint[]) WITH ORDINALITY AS p (server, shard)
                        """, [map.serverOfShard.map(Int64.init).postgresArray])
                    try connection.query(
                        "INSERT INTO tweeter_catalog.shard_map (version, logical_shards) VALUES (1, $1)",
                        [String(logicalShards)])
                }
                return try Self.read(connection)
            }
        }
        guard snapshot.map.logicalShardCount == logicalShards else {
            throw ShardCatalogError.logicalShardsDiffer(catalog: snapshot.map.logicalShardCount, given: logicalShards)
        }
        return snapshot
    }

    /// The catalog as it is now.
    public func snapshot() async throws -> Snapshot {
        try await pool.withConnection { connection in
            try connection.transaction { connection in
                try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return try Self.read(connection)
            }
        }
    }

    /// The map's version now: one tiny read, for the poll.
    public func version() async throws -> Int64 {
        try await pool.withConnection { connection in
            try connection.query("SELECT version FROM tweeter_catalog.shard_map")[0].int64("version")
        }
    }

    /// Records that every shard's schema exists on its first server.
    func markSchemasCreated() async throws {
        try await pool.withConnection { connection in
            try connection.query("UPDATE tweeter_catalog.shard_map SET schemas_created = true")
        }
    }

    public func shutdown() async throws {
        try await pool.shutdown()
    }

    /// Reads the whole catalog, in the caller's transaction.
    static func read(_ connection: PostgresConnection) throws -> Snapshot {
        let header = try connection.query(
            "SELECT version, logical_shards, schemas_created FROM tweeter_catalog.shard_map")
        guard let row = header.all.first else { throw ShardCatalogError.missing }
        let servers = try connection.query("SELECT id, conninfo FROM tweeter_catalog.servers ORDER BY id").all
        let conninfos = try servers.map { try $0.string("conninfo") }
        guard try servers.enumerated().allSatisfy({ try $1.int64("id") == Int64($0) }) else {
            throw ShardCatalogError.corrupt("server numbers are not 0, 1, 2, …")
        }
        let placements = try connection.query("SELECT shard, server FROM tweeter_catalog.placements ORDER BY shard")
        let logicalShards = Int(try row.int64("logical_shards"))
        let serverOfShard = try placements.all.map { Int(try $0.int64("server")) }
        guard serverOfShard.count == logicalShards,
            try placements.all.enumerated().allSatisfy({ try $1.int64("shard") == Int64($0) })
        else { throw ShardCatalogError.corrupt("placements do not cover shards 0..<\(logicalShards)") }
        return Snapshot(
            version: try row.int64("version"), servers: conninfos,
            map: ShardMap(serverOfShard: serverOfShard, servers: conninfos.count),
            schemasCreated: try row.bool("schemas_created"))
    }

    /// The advisory lock key that serialises writers of the catalog (`'tweeter_catalog'` as an integer).
    static let lockKey = 0x7477_6565_7465_72

    /// The catalog's tables. `shard_moves` holds the moves under way: a move resumes from its recorded step.
    static let schema = """
        CREATE SCHEMA IF NOT EXISTS tweeter_catalog;
        CREATE TABLE IF NOT EXISTS tweeter_catalog.shard_map (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version bigint NOT NULL,
            logical_shards integer NOT NULL,
            schemas_created boolean NOT NULL DEFAULT false
        );
        CREATE TABLE IF NOT EXISTS tweeter_catalog.servers (
            id integer PRIMARY KEY,
            conninfo text NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS tweeter_catalog.placements (
            shard integer PRIMARY KEY,
            server integer NOT NULL REFERENCES tweeter_catalog.servers (id)
        );
        CREATE TABLE IF NOT EXISTS tweeter_catalog.shard_moves (
            shard integer PRIMARY KEY,
            source integer NOT NULL REFERENCES tweeter_catalog.servers (id),
            target integer NOT NULL REFERENCES tweeter_catalog.servers (id),
            step text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        """
}

/// Why the shard catalog could not be used.
public enum ShardCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The catalog server has no catalog (it was not bootstrapped).
    case missing
    /// The catalog was made for another number of logical shards, which is fixed for the life of the data.
    case logicalShardsDiffer(catalog: Int, given: Int)
    case corrupt(String)

    public var description: String {
        switch self {
        case .missing: "shard catalog: not found on the catalog server (start a TweetService or run migrate first)"
        case .logicalShardsDiffer(let catalog, let given):
            "shard catalog: made for \(catalog) logical shards, but \(given) were given"
        case .corrupt(let detail): "shard catalog: corrupt: \(detail)"
        }
    }
}
