import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    /// Creations on one shard stored together (`TweetCreationBatches`), against the real servers.
    @Suite("Tweet creation in groups")
    struct TweetCreationBatchesTests {
        /// `count` users whose names put them on `shard`.
        private static func makeUsers(_ count: Int, onShard shard: Int, client: AnyRoleClient) async throws
            -> [UserRecord]
        {
            let database = try await TestStore.migrated()
            var users: [UserRecord] = []
            while users.count < count {
                let username = TestStore.uniqueName("g")
                guard database.shardMap.shard(ofUsername: username) == shard else { continue }
                users.append(
                    try await client.call(CreateUser.self, Credentials(username: username, password: "password1")))
            }
            return users
        }

        /// A transaction on a connection of its own that holds `users`' rows locked until ``commit()``: a group that
        /// writes one of them waits, so the creations behind it gather deterministically. (The pool's `lock_timeout`
        /// is 1 s: a test releases the lock well within it.)
        private final class RowLock {
            private let connection: PostgresConnection

            init(_ users: [Int64], shard: Int, database: ShardedDatabase) throws {
                connection = try PostgresConnection(
                    conninfo: TestStore.servers[database.shardMap.server(ofShard: shard)])
                _ = try connection.query("BEGIN")
                _ = try connection.query(
                    "SELECT 1 FROM \(ShardMap.schema(ofShard: shard)).users WHERE id = ANY($1::bigint[]) FOR UPDATE",
                    [users.postgresArray])
            }

            func commit() throws {
                _ = try connection.query("COMMIT")
            }
        }

        /// Waits until a group is being stored on `shard` with `count` creations waiting behind it (milliseconds).
        private static func waitUntil(_ count: Int, waitOn shard: Int, in creations: TweetCreationBatches) async throws
        {
            let reached = try await eventually(within: .seconds(5)) {
                (creations.waitingCount(onShard: shard) ?? -1) >= count
            }
            try #require(reached, "never \(count) creations waiting on shard \(shard)")
        }

        private static func tweetsCount(of user: Int64, database: ShardedDatabase) async throws -> Int64 {
            try await database.withShard(TweeterID.shard(of: user)) { connection, schema in
                try connection.query("SELECT tweets_count FROM \(schema).users WHERE id = $1", [String(user)])[0]
                    .int64("tweets_count")
            }
        }

        /// 150 creations at once by three authors of one shard, while the first one's statement waits for a lock: the
        /// other 149 gather behind it and are stored in groups of at most 64 (4 statements in all), every one once,
        /// with its own id, text and outbox reference, and each author's counter counts exactly its tweets.
        @Test func concurrentCreationsOnOneShardAreStoredTogetherAndEachAnsweredAlone() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                let authors = try await Self.makeUsers(3, onShard: 321, client: client)
                let store = TweetStore(database: database)
                let requests = (0..<150).map { NewTweet(authorID: authors[$0 % 3].id, text: "group \($0)") }
                let lock = try RowLock(authors.map(\.id), shard: 321, database: database)
                let created = try await withThrowingTaskGroup(of: (Int, TweetRecord).self) { group in
                    for (index, request) in requests.enumerated() {
                        group.addTask { (index, try await store.create(request)) }
                    }
                    try await Self.waitUntil(149, waitOn: 321, in: store.creations)
                    try lock.commit()
                    var created = [TweetRecord?](repeating: nil, count: requests.count)
                    for try await (index, tweet) in group {
                        created[index] = tweet
                    }
                    return created.compactMap { $0 }
                }
                #expect(created.count == 150)
                #expect(Set(created.map(\.id)).count == 150, "each creation has its own id")
                for (request, tweet) in zip(requests, created) {
                    #expect(tweet.userID == request.authorID && tweet.text == request.text)
                    #expect(TweeterID.shard(of: tweet.id) == 321)
                }
                #expect(try await store.tweets(created.map(\.id)) == created, "stored as answered")
                for author in authors {
                    #expect(try await Self.tweetsCount(of: author.id, database: database) == 50)
                }
                let references = try await database.withShard(321) { connection, schema in
                    try connection.query(
                        "SELECT count(*) AS n FROM \(schema).outbox WHERE tweet_id = ANY($1::bigint[])",
                        [created.map(\.id).postgresArray])[0].int64("n")
                }
                #expect(references == 150, "one outbox reference per tweet")
                #expect(store.creations.groupCount == 4, "one alone, then 149 in groups of 64, 64 and 21")
            }
        }

        /// Runs `requests` through `creations` on `shard` while `lock` holds the first one's statement, releasing the
        /// lock once all the others wait, so that they go as one group behind it. Returns each request's answer.
        private static func createAsOneGroup(
            _ requests: [NewTweet], on shard: Int, through creations: TweetCreationBatches, behind lock: RowLock
        ) async throws -> [Result<TweetRecord?, any Error>] {
            let storeBy = ContinuousClock.now + .seconds(5)
            return try await withThrowingTaskGroup(of: (Int, Result<TweetRecord?, any Error>).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask {
                        do {
                            return (
                                index, .success(try await creations.create(request, onShard: shard, storeBy: storeBy))
                            )
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                    // In order: the first is stored (and waits for the lock), the others wait behind it.
                    try await Self.waitUntil(index, waitOn: shard, in: creations)
                }
                try lock.commit()
                var answers = [Result<TweetRecord?, any Error>?](repeating: nil, count: requests.count)
                for try await (index, answer) in group {
                    answers[index] = answer
                }
                return answers.map { $0! }
            }
        }

        /// Texts that mean something in PostgreSQL's array syntax arrive as written, and a creation by an author who
        /// does not exist, in the middle of a group, stores nothing and is answered with no tweet while the others,
        /// before and after it, are stored with their own texts.
        @Test func aGroupStoresEveryTextAsWrittenAndLeavesOutAnUnknownAuthor() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                let author = try await Self.makeUsers(1, onShard: 322, client: client)[0]
                let nobody = TweeterID.make(unixMillis: TweeterID.epochMillis + 5, shard: 322, sequence: 1)
                let texts = [
                    #"a "quoted" word"#, #"back\slash \" and \\"#, "{braces}, commas, ", "NULL", "line\nbreak\ttab",
                    "émoji 🐦 and 日本語", " leading and trailing ",
                ]
                let creations = TweetCreationBatches(database: database)
                let lock = try RowLock([author.id], shard: 322, database: database)
                var requests = [NewTweet(authorID: author.id, text: "first, alone")]
                requests += texts.prefix(3).map { NewTweet(authorID: author.id, text: $0) }
                requests.append(NewTweet(authorID: nobody, text: "lost"))
                requests += texts.dropFirst(3).map { NewTweet(authorID: author.id, text: $0) }
                let answers = try await Self.createAsOneGroup(requests, on: 322, through: creations, behind: lock)
                #expect(creations.groupCount == 2, "the first alone, then the other \(requests.count - 1) together")
                #expect(try answers[4].get() == nil, "an unknown author's creation stores nothing")
                let stored = try answers.enumerated().filter { $0.offset != 0 && $0.offset != 4 }.map {
                    try #require(try $0.element.get())
                }
                #expect(stored.map(\.text) == texts)
                #expect(try await TweetStore(database: database).tweets(stored.map(\.id)).map(\.text) == texts)
                #expect(try await Self.tweetsCount(of: author.id, database: database) == Int64(texts.count + 1))
            }
        }

        /// A group whose statement PostgreSQL refuses because of one creation (here a text with NUL, which the
        /// service's validation keeps out and which PostgreSQL cannot take) is tried again one creation at a time:
        /// the others are stored, and only that one fails.
        @Test func aCreationTheServerRefusesFailsAloneNotItsGroup() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                let author = try await Self.makeUsers(1, onShard: 324, client: client)[0]
                let creations = TweetCreationBatches(database: database)
                let lock = try RowLock([author.id], shard: 324, database: database)
                let requests = ["first, alone", "before", "nul \u{0} inside", "after"].map {
                    NewTweet(authorID: author.id, text: $0)
                }
                let answers = try await Self.createAsOneGroup(requests, on: 324, through: creations, behind: lock)
                #expect(try answers[1].get()?.text == "before")
                #expect(try answers[3].get()?.text == "after")
                #expect(throws: PostgresError.self) { try answers[2].get() }
                #expect(try await Self.tweetsCount(of: author.id, database: database) == 3)
            }
        }

        /// A creation whose deadline passed while it waited is refused with `too_late`; past the bound on waiting
        /// creations, a creation is refused with `resource_exhausted` at once; neither stores anything.
        @Test func aLateCreationAndOnePastTheWaitingBoundAreRefusedAndStoreNothing() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                let author = try await Self.makeUsers(1, onShard: 323, client: client)[0]
                let creations = TweetCreationBatches(
                    database: database, configuration: .init(maxBatchSize: 64, maxWaitingPerShard: 2))
                let lock = try RowLock([author.id], shard: 323, database: database)
                let later = ContinuousClock.now + .seconds(5)
                // The first is stored at once (and waits for the lock), the next two wait, one of them with a
                // deadline that has passed by the time its group forms, and the last finds no room.
                let outcomes = try await withThrowingTaskGroup(of: (String, String).self) { group in
                    let arrivals = [
                        ("first", later, 0), ("on time", later, 1), ("late", ContinuousClock.now, 2),
                        ("no room", later, 2),
                    ]
                    for (text, storeBy, waitingAfter) in arrivals {
                        group.addTask {
                            do {
                                _ = try await creations.create(
                                    NewTweet(authorID: author.id, text: text), onShard: 323, storeBy: storeBy)
                                return (text, "stored")
                            } catch let error as WireError {
                                return (text, "\(error.code)/\(error.reason)")
                            }
                        }
                        try await Self.waitUntil(waitingAfter, waitOn: 323, in: creations)
                    }
                    var outcomes: [String: String] = [:]
                    // The refusal comes at once, while the lock is still held.
                    let (text, outcome) = try #require(try await group.next())
                    outcomes[text] = outcome
                    try lock.commit()
                    for try await (text, outcome) in group {
                        outcomes[text] = outcome
                    }
                    return outcomes
                }
                #expect(
                    outcomes == [
                        "first": "stored", "on time": "stored", "late": "unavailable/too_late",
                        "no room": "resource_exhausted/too_many_creations",
                    ])
                #expect(try await Self.tweetsCount(of: author.id, database: database) == 2)
            }
        }
    }
}
