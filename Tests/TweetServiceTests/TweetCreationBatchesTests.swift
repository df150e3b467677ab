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
            let deadline = ContinuousClock.now + .seconds(5)
            while (creations.waitingCount(onShard: shard) ?? -1) < count {
                guard ContinuousClock.now < deadline else {
                    throw WireError(.deadlineExceeded, "never \(count) creations waiting on shard \(shard)")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
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

        /// Texts that mean something in PostgreSQL's array syntax arrive as written, and a creation by an author who
        /// does not exist, in the same group as the others, stores nothing and is answered `unknown_user` while the
        /// others are stored.
        @Test func aGroupStoresEveryTextAsWrittenAndLeavesOutAnUnknownAuthor() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                let author = try await Self.makeUsers(1, onShard: 322, client: client)[0]
                let nobody = TweeterID.make(unixMillis: TweeterID.epochMillis + 5, shard: 322, sequence: 1)
                let texts = [
                    #"a "quoted" word"#, #"back\slash \" and \\"#, "{braces}, commas, ", "NULL", "line\nbreak\ttab",
                    "émoji 🐦 and 日本語", " leading and trailing ",
                ]
                let creations = TweetCreationBatches(
                    database: database, configuration: .init(maxBatchSize: 64, maxWaitingPerShard: 64))
                let storeBy = ContinuousClock.now + .seconds(5)
                let requests =
                    texts.map { NewTweet(authorID: author.id, text: $0) } + [NewTweet(authorID: nobody, text: "lost")]
                let answers = await withTaskGroup(of: (Int, Result<TweetRecord?, any Error>).self) { group in
                    for (index, request) in requests.enumerated() {
                        group.addTask {
                            do {
                                return (
                                    index, .success(try await creations.create(request, onShard: 322, storeBy: storeBy))
                                )
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    var answers: [Int: Result<TweetRecord?, any Error>] = [:]
                    for await (index, answer) in group {
                        answers[index] = answer
                    }
                    return answers
                }
                let stored = try (0..<texts.count).map { try #require(try answers[$0]?.get()) }
                #expect(stored.map(\.text) == texts)
                #expect(try await TweetStore(database: database).tweets(stored.map(\.id)).map(\.text) == texts)
                #expect(try answers[texts.count]?.get() == .some(nil), "an unknown author's creation stores nothing")
                #expect(try await Self.tweetsCount(of: author.id, database: database) == Int64(texts.count))
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
                let soon = ContinuousClock.now + .milliseconds(200)
                let later = ContinuousClock.now + .seconds(5)
                // The first is stored at once (and waits for the lock), the next two wait, one of them with a
                // deadline that passes meanwhile, and the last finds no room.
                let outcomes = try await withThrowingTaskGroup(of: (String, String).self) { group in
                    let arrivals = [
                        ("first", later, 0), ("on time", later, 1), ("late", soon, 2), ("no room", later, 2),
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
                    try await Task.sleep(until: soon + .milliseconds(50))
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
