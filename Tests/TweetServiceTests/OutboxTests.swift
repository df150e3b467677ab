import Logging
import Synchronization
import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    @Suite("Outbox relay")
    struct OutboxTests {
        @Test func everyChangeBecomesOneEventDeliveredOverWire() async throws {
            let database = try await TestStore.migrated()
            try await withStandInTimelineService(database: database) { relay, sink in
                try await withTweetService(relay: relay) { client in
                    let users = try await makeUsers(2, client: client)
                    let tweet = try await client.call(
                        CreateTweet.self, NewTweet(authorID: users[0].id, text: "event me"))
                    // Delivered before the delete: a creation is sent with the tweet as it is when it is sent.
                    await relay.drain(shards: Array(0..<1024))
                    _ = try await client.call(Follow.self, FollowEdge(followerID: users[1].id, followeeID: users[0].id))
                    _ = try await client.call(
                        Unfollow.self, FollowEdge(followerID: users[1].id, followeeID: users[0].id))
                    _ = try await client.call(
                        DeleteTweet.self, TweetDeletion(tweetID: tweet.id, requesterID: users[0].id))
                    await relay.drain(shards: Array(0..<1024))

                    let mine = sink.events.filter { event in
                        switch event.change {
                        case .tweetCreated(let t, _): t.userID == users[0].id
                        case .tweetDeleted(_, let author): author == users[0].id
                        case .followed(let edge), .unfollowed(let edge): edge.followerID == users[1].id
                        }
                    }
                    #expect(mine.count == 4)
                    #expect(mine.contains { $0.change == .tweetCreated(tweet, authorFollowers: 0) })
                    #expect(mine.contains { $0.change == .tweetDeleted(tweetID: tweet.id, authorID: users[0].id) })
                    #expect(
                        mine.contains {
                            $0.change == .followed(FollowEdge(followerID: users[1].id, followeeID: users[0].id))
                        })
                    #expect(
                        mine.contains {
                            $0.change == .unfollowed(FollowEdge(followerID: users[1].id, followeeID: users[0].id))
                        })
                    #expect(Set(mine.map { "\($0.shard)/\($0.id)" }).count == 4, "each event has its own id")
                }
            }
        }

        /// A creation is stored as a reference to its tweet, so a tweet deleted before the relay sends it is sent as
        /// nothing: only its delete goes, and the reference leaves the outbox all the same.
        @Test func aTweetDeletedBeforeItsCreationIsSentIsSentOnlyAsItsDelete() async throws {
            let database = try await TestStore.migrated()
            try await withStandInTimelineService(database: database) { relay, sink in
                try await withTweetService(relay: relay) { client in
                    let author = try await makeUsers(1, client: client)[0]
                    let kept = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "kept"))
                    let gone = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "gone"))
                    let shard = TweeterID.shard(of: author.id)
                    let references = try await database.withShard(shard) { connection, schema in
                        try connection.query(
                            "SELECT count(*) AS n FROM \(schema).outbox WHERE tweet_id = ANY($1::bigint[]) AND payload IS NULL",
                            ["{\(kept.id),\(gone.id)}"])[0].int64("n")
                    }
                    #expect(references == 2, "each creation is one outbox row that refers to its tweet")
                    _ = try await client.call(DeleteTweet.self, TweetDeletion(tweetID: gone.id, requesterID: author.id))
                    await relay.drain(shards: [shard])

                    let mine = sink.events.filter { event in
                        switch event.change {
                        case .tweetCreated(let tweet, _): tweet.userID == author.id
                        case .tweetDeleted(_, let authorID): authorID == author.id
                        case .followed, .unfollowed: false
                        }
                    }
                    #expect(
                        mine.map(\.change) == [
                            .tweetCreated(kept, authorFollowers: 0),
                            .tweetDeleted(tweetID: gone.id, authorID: author.id),
                        ])
                    let left = try await database.withShard(shard) { connection, schema in
                        try connection.query(
                            "SELECT count(*) AS n FROM \(schema).outbox WHERE tweet_id = ANY($1::bigint[])",
                            ["{\(kept.id),\(gone.id)}"])[0].int64("n")
                    }
                    #expect(left == 0, "both references left the outbox")
                }
            }
        }

        @Test func aCreatedTweetsEventCarriesItsAuthorsFollowerCount() async throws {
            let database = try await TestStore.migrated()
            try await withStandInTimelineService(database: database) { relay, sink in
                try await withTweetService(relay: relay) { client in
                    let users = try await makeUsers(3, client: client)
                    for follower in users.dropFirst() {
                        _ = try await client.call(
                            Follow.self, FollowEdge(followerID: follower.id, followeeID: users[0].id))
                    }
                    let tweet = try await client.call(
                        CreateTweet.self, NewTweet(authorID: users[0].id, text: "two followers"))
                    await relay.drain(shards: Array(0..<1024))
                    #expect(sink.events.contains { $0.change == .tweetCreated(tweet, authorFollowers: 2) })
                }
            }
        }

        @Test func aRelayKilledMidDeliveryLosesNothing() async throws {
            let database = try await TestStore.migrated()
            let shortClaims = OutboxRelay.Configuration(
                batchSize: 50, claimTime: .seconds(1), sweepInterval: .milliseconds(100))
            // Drain whatever earlier tests left, so that only this test's events are in flight.
            await OutboxRelay(database: database, configuration: shortClaims, logger: TestStore.logger) { _ in }.drain(
                shards: Array(0..<1024))

            let author = try await withTweetService { client in try await makeUsers(1, client: client)[0] }
            var created: Set<Int64> = []
            try await withTweetService { client in
                for index in 0..<120 {
                    created.insert(
                        try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "k\(index)")).id)
                }
            }
            // The first relay claims a batch, then hangs in delivery until it is killed.
            let started = AsyncStream.makeStream(of: Void.self)
            let doomed = OutboxRelay(database: database, configuration: shortClaims, logger: TestStore.logger) { _ in
                started.continuation.yield()
                try await Task.sleep(for: .seconds(3600))
            }
            let doomedRun = Task { await doomed.drain(shards: [TweeterID.shard(of: author.id)]) }
            var iterator = started.stream.makeAsyncIterator()
            await iterator.next()
            doomedRun.cancel()
            _ = await doomedRun.result

            // A new relay, after the dead one's claim expires, delivers every event at least once.
            let sink = EventSink()
            let survivor = OutboxRelay(database: database, configuration: shortClaims, logger: TestStore.logger) {
                sink.accept($0)
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var delivered: Set<Int64> = []
            while delivered != created && ContinuousClock.now < deadline {
                await survivor.drain(shards: [TweeterID.shard(of: author.id)])
                delivered = Set(
                    sink.events.compactMap { event in
                        if case .tweetCreated(let tweet, _) = event.change, tweet.userID == author.id {
                            return tweet.id
                        }
                        return nil
                    })
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(delivered == created)
        }

        /// A write that woke the relay counts in its lag (`OutboxRelay.deliveryLag`, which the fan-out's backpressure
        /// reads beside the TimelineService's queue) until a claim finds its shard drained: a failed delivery leaves
        /// the lag growing, a delivered one clears it.
        @Test func theRelaysLagCountsAWriteUntilItsShardIsFoundDrainedAndNotAfterAFailedDelivery() async throws {
            let database = try await TestStore.migrated()
            await OutboxRelay(database: database, logger: TestStore.logger) { _ in }.drain(shards: Array(0..<1024))
            let author = try await withTweetService { client in try await makeUsers(1, client: client)[0] }
            let shard = TweeterID.shard(of: author.id)
            let failing = Atomic(true)
            // Not run (no wake-ups drained, no sweep): the test drains the shard itself.
            let relay = OutboxRelay(database: database, logger: TestStore.logger) { _ in
                if failing.load(ordering: .relaxed) { throw WireError(.unavailable, "the timeline service is away") }
            }
            #expect(relay.deliveryLag == .zero, "nothing written yet")

            try await withTweetService { client in
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "lags"))
            }
            relay.notify(shard: shard)
            let grew = try await eventually(within: .seconds(10), every: .milliseconds(10)) {
                relay.deliveryLag >= .milliseconds(200)
            }
            #expect(grew, "written, not delivered: the lag grows")
            await relay.deliverNow(shard: shard)
            #expect(relay.deliveryLag >= .milliseconds(200), "a failed delivery leaves the lag")
            failing.store(false, ordering: .relaxed)
            await relay.deliverNow(shard: shard)
            #expect(relay.deliveryLag == .zero, "delivered: the shard was found drained")
        }

        /// An outbox is a queue: every delivered row leaves dead versions that each claim reads past until a vacuum,
        /// and autovacuum may not come for a minute. The relay vacuums a shard's outbox itself once it has deleted
        /// `vacuumEvery` rows there, at the end of a drain, never on the path of a request (`deliverNow`).
        @Test func theRelayVacuumsAShardsOutboxAfterEveryFewRowsItDeletedButNotOnARequestsPath() async throws {
            let database = try await TestStore.migrated()
            // Whatever earlier tests left, drained by a relay of its own, so that only this test's rows are counted.
            await OutboxRelay(database: database, logger: TestStore.logger) { _ in }.drain(shards: Array(0..<1024))
            let author = try await withTweetService { client in try await makeUsers(1, client: client)[0] }
            let shard = TweeterID.shard(of: author.id)
            @Sendable func vacuums() async throws -> Int64 {
                try await database.withShard(shard) { connection, schema in
                    try connection.query(
                        "SELECT vacuum_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'outbox'",
                        [schema]
                    ).all.first?.int64("vacuum_count") ?? -1
                }
            }
            @Sendable func create(_ count: Int) async throws {
                try await withTweetService { client in
                    for index in 0..<count {
                        _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "v\(index)"))
                    }
                }
            }
            let relay = OutboxRelay(
                database: database, configuration: OutboxRelay.Configuration(batchSize: 10, vacuumEvery: 20),
                logger: TestStore.logger
            ) { _ in }
            let before = try await vacuums()

            try await create(25)
            await relay.deliverNow(shard: shard)
            #expect(try await vacuums() == before, "a request's delivery does not wait for a vacuum")
            await relay.drain(shards: [shard])
            #expect(try await eventually { try await vacuums() == before + 1 }, "25 deleted rows: due at the drain")
            try await create(10)
            await relay.drain(shards: [shard])
            #expect(try await vacuums() == before + 1, "10 more rows are not yet 20")
        }

        /// A new schema holding an outbox and a tweets table shaped like a shard's, with `rows` rows in the outbox,
        /// which no running relay sweeps; returns its name (the caller drops it).
        static func scratchOutbox(_ prefix: String, rows: Int, on connection: PostgresConnection) throws -> String {
            let schema = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
            try connection.execute(
                script: """
                    CREATE SCHEMA \(schema);
                    CREATE TABLE \(schema).outbox (LIKE shard_0000.outbox INCLUDING ALL);
                    CREATE TABLE \(schema).tweets (LIKE shard_0000.tweets INCLUDING ALL);
                    INSERT INTO \(schema).outbox (payload) SELECT '\\x00' FROM generate_series(1, \(rows));
                    """)
            return schema
        }

        /// Two claims at once never take the same row, and neither waits for the other: while the first claim's
        /// transaction is still open, a second takes the rows after the first's. On an outbox of its own, which no
        /// running relay sweeps.
        @Test func twoClaimsAtOnceTakeDifferentRowsWithoutWaiting() async throws {
            _ = try await TestStore.migrated()
            let first = try PostgresConnection(conninfo: TestStore.servers[0])
            let second = try PostgresConnection(conninfo: TestStore.servers[0])
            let schema = try Self.scratchOutbox("claim_test", rows: 10, on: first)
            defer { try? first.execute(script: "DROP SCHEMA \(schema) CASCADE") }
            let claim = OutboxStatements.claim(schema: schema)
            func ids(_ rows: PostgresRows) throws -> Set<Int64> { Set(try rows.all.map { try $0.int64("id") }) }

            _ = try second.query("SET lock_timeout = '2s'")
            _ = try first.query("BEGIN")
            let firstRows = try ids(first.execute(claim, ["10000", "6"]))
            // Answered while the first still holds its rows (a claim that waited for them would fail here after
            // the 2 s lock timeout).
            let secondRows = try ids(second.execute(claim, ["10000", "6"]))
            _ = try first.query("COMMIT")

            #expect(firstRows.count == 6)
            #expect(secondRows.count == 4, "the four rows the first did not take")
            #expect(secondRows.isDisjoint(with: firstRows))
        }

        /// The relay's claim and delete commit without waiting for a WAL flush (each sets `synchronous_commit` off for
        /// its own transaction), and the setting ends with that transaction: the connection's next commits, which may
        /// store tweets, wait for the disk as before. On an outbox of its own, which no running relay sweeps.
        @Test func theClaimAndTheDeleteCommitAsynchronouslyAndOnlyThemselves() async throws {
            _ = try await TestStore.migrated()
            let connection = try PostgresConnection(conninfo: TestStore.servers[0])
            let schema = try Self.scratchOutbox("async_test", rows: 4, on: connection)
            defer { try? connection.execute(script: "DROP SCHEMA \(schema) CASCADE") }
            func synchronousCommit() throws -> String {
                try connection.query("SELECT current_setting('synchronous_commit') AS value")[0].string("value")
            }

            _ = try connection.query("BEGIN")
            let claimed = try connection.execute(OutboxStatements.claim(schema: schema), ["10000", "2"]).all.map {
                try $0.int64("id")
            }
            let duringClaim = try synchronousCommit()
            _ = try connection.query("COMMIT")
            let afterClaim = try synchronousCommit()
            _ = try connection.query("BEGIN")
            _ = try connection.execute(OutboxStatements.delete(schema: schema), [claimed.postgresArray])
            let duringDelete = try synchronousCommit()
            _ = try connection.query("COMMIT")
            let afterDelete = try synchronousCommit()
            let left = try connection.query("SELECT count(*) AS n FROM \(schema).outbox")[0].int64("n")

            #expect(claimed.count == 2 && left == 2, "the claim took two rows and the delete removed them")
            #expect(duringClaim == "off" && duringDelete == "off")
            #expect(afterClaim == "on" && afterDelete == "on", "the connection's later commits are synchronous")
        }

        /// The claim updates each row it takes on the row's own page (a HOT update: one WAL record, no new index
        /// entry), because the outbox's pages keep room for it (migration 6). Without that room, the rows on full pages
        /// moved to other pages: three WAL records a row. In a transaction that is rolled back, so that no relay sees
        /// the rows.
        @Test func theClaimUpdatesItsRowsOnTheirOwnPages() async throws {
            let database = try await TestStore.migrated()
            let (claimed, updated, onTheirPages) = try await database.withShard(1021) { connection, schema in
                _ = try connection.query("BEGIN")
                defer { _ = try? connection.query("ROLLBACK") }
                _ = try connection.query(
                    "INSERT INTO \(schema).outbox (payload) SELECT '\\x00' FROM generate_series(1, 300)")
                let claimed = try connection.execute(OutboxStatements.claim(schema: schema), ["10000", "500"]).all.count
                let counts = try connection.query(
                    """
                    SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables
                    WHERE schemaname = $1 AND relname = 'outbox'
                    """,
                    [schema])[0]
                return (claimed, try counts.int64("n_tup_upd"), try counts.int64("n_tup_hot_upd"))
            }
            #expect(claimed >= 300 && updated == Int64(claimed))
            #expect(Double(onTheirPages) >= 0.9 * Double(updated), "\(onTheirPages) of \(updated) updates in place")
        }
    }
}
