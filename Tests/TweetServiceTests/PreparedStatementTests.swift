import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    /// Prepared statements against the real servers: made once per connection, made again on a new connection, and
    /// a statement that cannot be prepared is an error, never a success.
    @Suite("Prepared statements")
    struct PreparedStatementTests {
        /// Runs `body` with a database of one connection per server, so that every call uses the same connection
        /// until it breaks, and shuts it down afterwards.
        private static func withDatabase<Result>(
            servers: [String] = TestStore.servers, _ body: (ShardedDatabase) async throws -> Result
        ) async throws -> Result {
            _ = try await TestStore.migrated()
            let database = ShardedDatabase(
                servers: servers, shardMap: ShardMap(logicalShards: 1024, servers: servers.count),
                connectionsPerServer: 1, logger: TestStore.logger)
            do {
                let result = try await body(database)
                try await database.shutdown()
                return result
            } catch {
                try? await database.shutdown()
                throw error
            }
        }

        private static func backendPID(_ database: ShardedDatabase, shard: Int) async throws -> Int64 {
            try await database.withShard(shard) { connection, _ in
                try connection.query("SELECT pg_backend_pid() AS pid")[0].int64("pid")
            }
        }

        @Test func creationPreparesOncePerConnectionAndAgainAfterAReconnect() async throws {
            try await withTweetService { client in
                try await Self.withDatabase { database in try await Self.createAcrossAReconnect(client, database) }
            }
        }

        private static func createAcrossAReconnect(_ client: AnyRoleClient, _ database: ShardedDatabase) async throws {
            let store = TweetStore(database: database)
            let author = try await makeUsers(1, client: client)[0]
            let shard = TweeterID.shard(of: author.id)
            let first = try await store.create(NewTweet(authorID: author.id, text: "first"))
            let second = try await store.create(NewTweet(authorID: author.id, text: "second"))
            let statements = try await database.withShard(shard) { connection, schema in
                try connection.query(
                    "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE '%tweets.' || $1", [schema]
                )[0].int64("n")
            }
            #expect(statements == 1)  // one statement per creation, prepared once for two creations

            // The server ends the connection: the next call fails (it never reports a success), and the pool
            // connects again and prepares again.
            let before = try await Self.backendPID(database, shard: shard)
            try await TestStore.database.withShard(shard) { connection, _ in
                try connection.query("SELECT pg_terminate_backend($1::int)", [String(before)])
            }
            var created: TweetRecord?
            for attempt in 0..<3 where created == nil {
                do {
                    created = try await store.create(NewTweet(authorID: author.id, text: "after \(attempt)"))
                } catch let error as PostgresError {
                    #expect(error.code == .unavailable)
                }
            }
            let after = try await Self.backendPID(database, shard: shard)
            #expect(after != before)
            let tweet = try #require(created)
            let stored = try await store.tweets([first.id, second.id, tweet.id]).map(\.text)
            #expect(stored == ["first", "second", tweet.text])
        }

        @Test func aStatementThatCannotBePreparedIsAnErrorAndIsPreparedAgainNextTime() async throws {
            try await Self.withDatabase { database in try await Self.prepareBrokenThenFixed(database) }
        }

        private static func prepareBrokenThenFixed(_ database: ShardedDatabase) async throws {
            let broken = PreparedStatement(name: "prepared_statement_test", sql: "SELECT id FROM no_such_table")
            let fixed = PreparedStatement(name: "prepared_statement_test_fixed", sql: "SELECT $1::int + 1 AS n")
            for _ in 0..<2 {
                await #expect(throws: PostgresError.self) {
                    try await database.withShard(0) { connection, _ in try connection.execute(broken) }
                }
            }
            let answer = try await database.withShard(0) { connection, _ in
                try connection.execute(fixed, ["41"])[0].int64("n")
            }
            #expect(answer == 42)
        }

        @Test func aConnectionKeepsTheMostRecentlyUsedStatementsUpToItsBound() async throws {
            _ = try await TestStore.migrated()
            let connection = try PostgresConnection(conninfo: TestStore.servers[0], maxPreparedStatements: 3)
            let statements = (0..<5).map {
                PreparedStatement(name: "bound_test_\($0)", sql: "SELECT \($0) + $1::int AS n")
            }
            for statement in statements {
                try connection.execute(statement, ["1"])
            }
            try connection.execute(statements[2], ["1"])  // used again: the oldest now is 3
            try connection.execute(statements[0], ["1"])  // prepared again, in the place of 3
            let kept = try connection.query("SELECT name FROM pg_prepared_statements ORDER BY name").all.map {
                try $0.string("name")
            }
            #expect(kept == ["bound_test_0", "bound_test_2", "bound_test_4"])
            #expect(try connection.execute(statements[0], ["41"])[0].int64("n") == 41)
        }

        @Test func aServerScanReadsEveryShardInOrderWithOneStatementPerGroupAndStopsAtItsLimit() async throws {
            try await Self.withDatabase { database in
                let shards = database.shardMap.shards(onServer: 0)
                let branch: @Sendable (Int, String) -> String = { shard, schema in
                    "SELECT \(shard)::bigint AS shard FROM (SELECT count(*) FROM \(schema).outbox) rows"
                }
                let decode: @Sendable (PostgresRow) throws -> Int = { Int(try $0.int64("shard")) }
                #expect(try await database.scan(server: 0, branch: branch, decode: decode) == shards)
                let groups = Set(shards.map { $0 / ShardedDatabase.shardsPerScanStatement }).count
                @Sendable func prepared(_ pattern: String) async throws -> Int {
                    try await database.onServer(0) { connection, _ in
                        Int(
                            try connection.query(
                                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", [pattern]
                            )[0].int64("n"))
                    }
                }
                let preparedGroups = try await prepared("%AS shard FROM (SELECT count%")
                #expect(groups > 1 && preparedGroups == groups)

                let limit = ShardedDatabase.shardsPerScanStatement + 8  // ends inside the second group
                let firstRows = try await database.scan(server: 0, limit: limit, branch: branch, decode: decode)
                #expect(firstRows == Array(shards.prefix(limit)))
                let limitedGroups = try await prepared("%AS shard FROM (SELECT count%LIMIT%")
                #expect(limitedGroups == 2, "the groups after the limit are not read")
            }
        }

        @Test func creationOnAShardWithoutItsTablesIsAnError() async throws {
            // The same servers, but a database with no shard schemas: preparing the first statement fails.
            let unmigrated = TestStore.servers.map { url in
                String(url[..<(url.lastIndex(of: "/") ?? url.endIndex)]) + "/postgres"
            }
            let author = TweeterID.make(unixMillis: 1_800_000_000_000, shard: 7, sequence: 1)
            _ = try await Self.withDatabase(servers: unmigrated) { database in
                await #expect(throws: PostgresError.self) {
                    try await TweetStore(database: database).create(NewTweet(authorID: author, text: "nowhere"))
                }
            }
        }
    }
}
