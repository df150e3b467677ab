import Testing
import WireTestSupport

@testable import TweetService

extension StoreTests {
    @Suite("Schema migrations")
    struct SchemaMigratorTests {
        /// Two TweetServices started at once on an empty database both migrate it: each version is applied once per
        /// shard, neither fails, and a third run applies nothing.
        @Test func racingMigratorsOnAFreshDatabaseApplyEachVersionOnceAndAgainNothing() async throws {
            let name = "tweeter_migrations_" + TestStore.uniqueName("")
            let shardMap = ShardMap(logicalShards: 32, servers: TestStore.servers.count)
            let admin = ShardedDatabase(
                servers: TestStore.servers.map { Self.url($0, database: "postgres") }, shardMap: shardMap,
                connectionsPerServer: 1, logger: TestStore.logger
            )
            // Administration, not a request: no statement timeout (creating a database can take seconds on a busy box).
            _ = try await admin.onEveryServer { connection, _ in
                try connection.query("SET statement_timeout = 0")
                try connection.query("CREATE DATABASE \(name)")
            }
            let databases = (0..<3).map { _ in
                ShardedDatabase(
                    servers: TestStore.servers.map { Self.url($0, database: name) }, shardMap: shardMap,
                    connectionsPerServer: 4, logger: TestStore.logger
                )
            }
            do {
                async let first = SchemaMigrator(database: databases[0], logger: TestStore.logger).migrate()
                async let second = SchemaMigrator(database: databases[1], logger: TestStore.logger).migrate()
                let applied = try await first + second
                #expect(applied == shardMap.logicalShardCount * Migration.all.count)
                #expect(try await SchemaMigrator(database: databases[2], logger: TestStore.logger).migrate() == 0)
                let versions = try await databases[2].onShards(0..<shardMap.logicalShardCount) {
                    connection, _, schema in
                    try connection.query("SELECT count(*) AS n FROM \(schema).schema_migrations")[0].int64("n")
                }
                #expect(versions.values.allSatisfy { $0 == Int64(Migration.all.count) })
            } catch {
                try await Self.drop(name, databases: databases, admin: admin)
                throw error
            }
            try await Self.drop(name, databases: databases, admin: admin)
        }

        /// Migration 7: a tweet's author is checked by the creation statement alone (an unknown author's tweet is
        /// left out: `aGroupStoresEveryTextAsWrittenAndLeavesOutAnUnknownAuthor`), so no shard's tweets keep the
        /// foreign key whose kept plan scanned the users table; sessions, written at sign-in only, keep theirs.
        @Test func tweetsHaveNoForeignKeyAfterMigrationSevenAndSessionsKeepTheirs() async throws {
            let database = try await TestStore.migrated()
            let shards = [0, 1, 511, 1023]
            let keys = try await database.onShards(shards) { connection, _, schema in
                let row = try connection.query(
                    """
                    SELECT count(*) FILTER (WHERE conrelid = '\(schema).tweets'::regclass) AS tweets,
                        count(*) FILTER (WHERE conrelid = '\(schema).sessions'::regclass) AS sessions
                    FROM pg_constraint WHERE contype = 'f'
                    """
                )[0]
                return [try row.int64("tweets"), try row.int64("sessions")]
            }
            for shard in shards {
                #expect(keys[shard] == [0, 1], "shard \(shard): foreign keys of tweets, of sessions")
            }
        }

        /// Migration 7 locks the busiest tables of a live shard. Behind a transaction that holds the tweets table (a
        /// long read, a shard move's copy), it gives way after each short attempt instead of queueing the shard's
        /// statements behind it all along: a request's read of the tweets table while the migration is waiting for its
        /// locks (the pool gives up on a lock after 1 s) is answered; the migration is done once the long transaction
        /// ends.
        @Test func migrationSevenWaitsOutALongTransactionWithoutStallingTheShard() async throws {
            let name = "tweeter_migration7_" + TestStore.uniqueName("")
            let shardMap = ShardMap(logicalShards: 2, servers: 1)
            let admin = ShardedDatabase(
                servers: [Self.url(TestStore.servers[0], database: "postgres")], shardMap: shardMap,
                connectionsPerServer: 1, logger: TestStore.logger
            )
            _ = try await admin.onEveryServer { connection, _ in
                try connection.query("SET statement_timeout = 0")
                try connection.query("CREATE DATABASE \(name)")
            }
            let url = Self.url(TestStore.servers[0], database: name)
            let database = ShardedDatabase(
                servers: [url], shardMap: shardMap, connectionsPerServer: 4, logger: TestStore.logger)
            do {
                let migrator = SchemaMigrator(database: database, logger: TestStore.logger)
                try await migrator.migrate(Array(Migration.all.prefix { $0.version < 7 }))
                let schema = ShardMap.schema(ofShard: 0)
                // The long transaction, on a connection of its own: it holds the lock until the test ends it.
                let longTransaction = try PostgresConnection(conninfo: url)
                try longTransaction.execute(script: "BEGIN; LOCK TABLE \(schema).tweets IN ACCESS SHARE MODE")
                let migration = Task { try await migrator.migrate() }
                let watcher = try PostgresConnection(conninfo: url)
                do {
                    let migrationWaits = try await eventually(within: .seconds(10)) {
                        let waiting = try? watcher.query(
                            """
                            SELECT count(*) AS n FROM pg_locks WHERE NOT granted
                                AND relation IN ('\(schema).users'::regclass, '\(schema).tweets'::regclass)
                            """
                        )[0].int64("n")
                        return (waiting ?? 0) > 0
                    }
                    try #require(migrationWaits, "the migration never waited for its locks")
                    // Fails (lock or statement timeout) when the migration keeps its place in the lock queue all along.
                    _ = try await database.withShard(0) { connection, schema in
                        try connection.query("SELECT count(*) AS n FROM \(schema).tweets")[0].int64("n")
                    }
                } catch {
                    try longTransaction.execute(script: "ROLLBACK")  // so that the migration can finish
                    _ = await migration.result
                    throw error
                }
                try longTransaction.execute(script: "COMMIT")
                #expect(try await migration.value == 2, "migration 7 on both shards")
                let keys = try watcher.query(
                    "SELECT count(*) AS n FROM pg_constraint WHERE conrelid = '\(schema).tweets'::regclass AND contype = 'f'"
                )[0].int64("n")
                #expect(keys == 0)
            } catch {
                try await Self.drop(name, databases: [database], admin: admin)
                throw error
            }
            try await Self.drop(name, databases: [database], admin: admin)
        }

        /// `url` with its database name replaced.
        private static func url(_ url: String, database: String) -> String {
            String(url[..<(url.lastIndex(of: "/") ?? url.endIndex)]) + "/" + database
        }

        private static func drop(_ name: String, databases: [ShardedDatabase], admin: ShardedDatabase) async throws {
            for database in databases {
                try await database.shutdown()
            }
            _ = try await admin.onEveryServer { connection, _ in
                try connection.query("SET statement_timeout = 0")
                try connection.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
            try await admin.shutdown()
        }
    }
}
