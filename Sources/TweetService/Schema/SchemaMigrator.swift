import Logging

/// Brings every logical shard to the newest ``Migration``. Safe to run again: each shard records the versions it has,
/// and each version is applied in one transaction together with that record.
public struct SchemaMigrator: Sendable {
    public let database: ShardedDatabase
    public let logger: Logger

    public init(database: ShardedDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Applies what is missing on every shard; returns how many (shard, version) pairs were applied.
    ///
    /// With a shard catalog, schemas are created only until the catalog records that every shard has one: after
    /// that, a shard whose schema is missing is in the middle of a move, and creating an empty one in its old place
    /// would take writes that belong to the new one. The migrator then waits for the move like any other work.
    @discardableResult
    public func migrate(_ migrations: [Migration] = Migration.all) async throws -> Int {
        // Migrations are not requests: they queue for connections and take locks for as long as they need.
        let shards = 0..<database.shardMap.logicalShardCount
        let mayCreate = !database.schemasCreated.load(ordering: .relaxed)
        let applied = try await database.onShards(shards, waitingAtMost: .seconds(3600)) { connection, shard, _ in
            try Self.migrate(shard: shard, on: connection, migrations, mayCreateSchema: mayCreate)
        }
        if mayCreate {
            try await database.markSchemasCreated()
        }
        let total = applied.values.reduce(0, +)
        logger.info("schema migrated", metadata: ["shards": "\(applied.count)", "applied": "\(total)"])
        return total
    }

    /// Applies what is missing on one shard, on `connection`; returns how many versions were applied.
    /// - Throws: a ``PostgresError`` that ``PostgresError/isMissingSchema`` when the schema does not exist and may not
    ///   be created.
    static func migrate(
        shard: Int, on connection: PostgresConnection, _ migrations: [Migration], mayCreateSchema: Bool
    ) throws -> Int {
        let schema = ShardMap.schema(ofShard: shard)
        try connection.execute(script: "SET client_min_messages TO warning")
        try connection.transaction { connection in
            // Under the shard's lock: `IF NOT EXISTS` alone does not stop two migrators (two processes starting
            // on a fresh database) from both creating the schema, and one failing on the catalog's unique index.
            try connection.execute(script: Self.unbounded)
            try connection.query("SELECT pg_advisory_xact_lock($1)", [String(shard)])
            let exists = !(try connection.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]).isEmpty)
            guard mayCreateSchema || exists else {
                throw PostgresError(
                    .queryFailed, sqlState: "3F000", "schema \(schema) is missing (the shard is moving)")
            }
            try connection.execute(
                script: """
                    CREATE SCHEMA IF NOT EXISTS \(schema);
                    CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
                    );
                    """)
        }
        var count = 0
        for migration in migrations {
            count += try connection.transaction { connection in
                // The lock makes two migrators racing on one shard apply each version once.
                try connection.execute(script: Self.unbounded)
                try connection.query("SELECT pg_advisory_xact_lock($1)", [String(shard)])
                let done = try connection.query(
                    "SELECT 1 FROM \(schema).schema_migrations WHERE version = $1", [String(migration.version)]
                )
                guard done.isEmpty else { return 0 }
                try connection.execute(script: migration.sql(forShard: shard))
                try connection.query(
                    "INSERT INTO \(schema).schema_migrations (version, name) VALUES ($1, $2)",
                    [String(migration.version), migration.name]
                )
                return 1
            }
        }
        return count
    }

    /// Lifts the pool's per-statement bounds for one transaction.
    private static let unbounded = "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0"
}
