import Foundation
import Synchronization
import Testing
import Wire
import WireTestSupport

@testable import TweetService

/// What a relay delivered, batch by batch.
final class BatchLog: Sendable {
    private let batches = Mutex<[[TimelineEvent]]>([])

    var all: [[TimelineEvent]] { batches.withLock { $0 } }

    func append(_ batch: [TimelineEvent]) {
        batches.withLock { $0.append(batch) }
    }
}

extension StoreTests {
    /// The tweet store's half of "nothing lost": bounded outbox batches, dead letters instead of blocked shards, bounded
    /// waits on a locked shard, and follow copies that agree however they race.
    @Suite("Delivery under faults")
    struct DeliveryUnderFaultsTests {
        /// A TimelineEvent for `author` whose payload is about `bytes` long.
        private static func bigEvent(author: Int64, index: Int, bytes: Int) -> TimelineEvent.Change {
            .tweetCreated(
                TweetRecord(
                    id: TweeterID.make(
                        unixMillis: TweeterID.epochMillis + 1_000 + Int64(index), shard: 1, sequence: index % 1024),
                    userID: author, username: "big", text: String(repeating: "x", count: bytes), createdAtMillis: 0,
                    inReplyToID: nil
                ),
                authorFollowers: 0
            )
        }

        private static func insertOutboxRows(_ payloads: [String], shard: Int, database: ShardedDatabase) async throws {
            try await database.withShard(shard) { connection, schema in
                for payload in payloads {
                    try connection.query("INSERT INTO \(schema).outbox (payload) VALUES ($1::bytea)", [payload])
                }
            }
        }

        private static func count(_ table: String, shard: Int, where condition: String, database: ShardedDatabase)
            async throws -> Int64
        {
            try await database.withShard(shard) { connection, schema in
                try connection.query("SELECT count(*) AS n FROM \(schema).\(table) WHERE \(condition)")[0].int64("n")
            }
        }

        /// 150 events of 8 KiB on one shard (1.2 MiB, more than one frame) drain in batches within the byte bound, and an
        /// undecodable row among them is dead-lettered instead of blocking the rows behind it.
        @Test func bigEventsDrainInBoundedBatchesAndAnUndecodableRowIsDeadLettered() async throws {
            let database = try await TestStore.migrated()
            let author = Int64.random(in: 1...Int64.max / 2)
            let shard = 777
            var payloads = (0..<150).map {
                OutboxPayload.bytea(for: Self.bigEvent(author: author, index: $0, bytes: 8 * 1024))
            }
            payloads.insert("\\x0102ff", at: 75)
            try await Self.insertOutboxRows(payloads, shard: shard, database: database)

            let batches = BatchLog()
            let maxBatchBytes = 64 * 1024
            let relay = OutboxRelay(
                database: database, configuration: OutboxRelay.Configuration(maxBatchBytes: maxBatchBytes),
                logger: TestStore.logger
            ) { batch in
                batches.append(batch.events)
            }
            await relay.drain(shards: [shard])

            let mine = batches.all.map { batch in
                batch.filter {
                    if case .tweetCreated(let tweet, _) = $0.change { tweet.userID == author } else { false }
                }
            }.filter { !$0.isEmpty }
            #expect(mine.flatMap { $0 }.count == 150, "every decodable event was delivered")
            for batch in mine {
                let bytes = batch.reduce(0) { $0 + $1.payload().readableBytes }
                #expect(bytes <= maxBatchBytes + 64, "a batch of \(bytes) bytes passed the \(maxBatchBytes)-byte bound")
            }
            #expect(
                try await Self.count(
                    "outbox_dead_letters", shard: shard, where: "payload = '\\x0102ff'::bytea", database: database) >= 1
            )
            #expect(
                try await Self.count("outbox", shard: shard, where: "true", database: database) == 0,
                "nothing is left blocking the shard")
        }

        /// The Wire client honours the frame limit the TimelineService announced: a batch too big for it is split, and an
        /// event too big even alone is dead-lettered, while the rest are delivered.
        @Test func theRelayHonoursThePeersAnnouncedFrameLimit() async throws {
            let database = try await TestStore.migrated()
            let author = Int64.random(in: 1...Int64.max / 2)
            let shard = 778
            let payloads = (0..<20).map {
                OutboxPayload.bytea(for: Self.bigEvent(author: author, index: $0, bytes: $0 == 7 ? 16_000 : 3_000))
            }
            try await Self.insertOutboxRows(payloads, shard: shard, database: database)

            let sink = try await withStandInTimelineService(database: database, maxFrameLength: 12 * 1024) {
                relay, sink in
                await relay.drain(shards: [shard])
                return sink
            }
            let delivered = sink.events.compactMap { event -> Int? in
                guard case .tweetCreated(let tweet, _) = event.change, tweet.userID == author else { return nil }
                return tweet.text.count
            }
            #expect(delivered.count == 19 && !delivered.contains(16_000), "all but the oversized event arrived")
            let deadLetter = try await database.withShard(shard) { connection, schema in
                try connection.query(
                    "SELECT reason FROM \(schema).outbox_dead_letters WHERE octet_length(payload) BETWEEN 16000 AND 17000 ORDER BY failed_at DESC LIMIT 1"
                )[0].string("reason")
            }
            #expect(deadLetter.contains("frame_too_large"), "dead-lettered for the peer's frame limit: \(deadLetter)")
            #expect(try await Self.count("outbox", shard: shard, where: "true", database: database) == 0)
        }

        /// A shard whose table is locked answers `database_timeout` within the pool's bounds instead of tying up its
        /// server; the refused write never commits later; a shard on the other server keeps serving meanwhile.
        @Test func aLockedShardFailsFastNeverCommitsLateAndSparesTheOtherServer() async throws {
            let database = try await TestStore.migrated()
            try await withTweetService { client in
                var byServer: [Int: UserRecord] = [:]
                while byServer.count < 2 {
                    let user = try await makeUsers(1, client: client)[0]
                    byServer[database.shardMap.server(ofShard: TweeterID.shard(of: user.id))] = user
                }
                let (locked, free) = (byServer[0]!, byServer[1]!)
                let lockedShard = TweeterID.shard(of: locked.id)
                let holder = TestStore.makeDatabase(connectionsPerServer: 1)
                let lockTaken = BatchLog()
                let text = "never committed " + TestStore.uniqueName("")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await holder.withShard(lockedShard) { connection, schema in
                            try connection.query("SET statement_timeout = 0")
                            try connection.transaction { connection in
                                try connection.query("LOCK TABLE \(schema).tweets IN ACCESS EXCLUSIVE MODE")
                                lockTaken.append([])
                                Thread.sleep(forTimeInterval: 6)
                            }
                        }
                    }
                    while lockTaken.all.isEmpty {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    // Several writes at once, more than the pool's connections: each one is refused, none waits forever
                    // (the first group waits for the lock until its timeout; those that gathered behind it are past
                    // their deadline by then and are refused without being tried).
                    let outcomes = try await withThrowingTaskGroup(of: String?.self) { writes in
                        for index in 0..<12 {
                            writes.addTask {
                                await wireOutcome {
                                    try await client.call(
                                        CreateTweet.self, NewTweet(authorID: locked.id, text: "\(text) \(index)"))
                                }
                            }
                        }
                        return try await writes.reduce(into: [String?]()) { $0.append($1) }
                    }
                    #expect(outcomes.contains("unavailable/database_timeout"), "\(outcomes)")
                    #expect(
                        outcomes.allSatisfy { $0 == "unavailable/database_timeout" || $0 == "unavailable/too_late" },
                        "\(outcomes)")
                    let spared = try await client.call(
                        CreateTweet.self, NewTweet(authorID: free.id, text: "the other server serves"))
                    #expect(spared.userID == free.id)
                    try await group.waitForAll()
                }
                try await holder.shutdown()
                let committed = try await Self.count(
                    "tweets", shard: lockedShard, where: "text LIKE 'never committed%'", database: database)
                #expect(committed == 0, "a write answered with an error committed later")
            }
        }

        /// A follow and an unfollow of the same pair, racing 200 times: both sides of the graph and both counters agree
        /// at the end without the repairer's help.
        @Test func racingFollowAndUnfollowLeaveBothSidesAgreeing() async throws {
            try await withTweetService { client in
                let users = try await makeUsers(2, client: client)
                let edge = FollowEdge(followerID: users[0].id, followeeID: users[1].id)
                for _ in 0..<200 {
                    async let followed = client.call(Follow.self, edge)
                    async let unfollowed = client.call(Unfollow.self, edge)
                    _ = try await (followed, unfollowed)
                }
                #expect(try await graphIsConsistent(users, database: TestStore.migrated()))
            }
        }
    }
}
