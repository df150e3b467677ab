import Testing
import TweetService

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
