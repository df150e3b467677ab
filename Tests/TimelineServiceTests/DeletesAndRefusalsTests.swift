import Testing
import TweetService
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// The timelines' half of "nothing lost, nothing resurrected": a delete wins in any order, and a refusal from Redis
    /// is an error to the caller, never a success or an empty page.
    @Suite("Deletes and refusals")
    struct DeletesAndRefusalsTests {
        /// Every place a tweet could show: the reader's and author's homes, the author's profile, the public timeline.
        private static func visible(_ tweetID: Int64, reader: Int64, author: Int64, in world: TimelineWorld)
            async throws -> [String]
        {
            var places: [String] = []
            let query = { (user: Int64) in TimelineQuery(userID: user, limit: 200) }
            if try await world.timelines.call(ReadHomeTimeline.self, query(reader)).tweets.contains(where: {
                $0.id == tweetID
            }) {
                places.append("reader home")
            }
            if try await world.timelines.call(ReadHomeTimeline.self, query(author)).tweets.contains(where: {
                $0.id == tweetID
            }) {
                places.append("author home")
            }
            if try await world.timelines.call(ReadPublicTimeline.self, TimelineQuery(limit: 200)).tweets.contains(
                where: { $0.id == tweetID })
            {
                places.append("public")
            }
            // The sorted sets themselves, not only what hydration lets through.
            let keys = [
                TimelineKeys.home(reader), TimelineKeys.home(author), TimelineKeys.profile(author),
                TimelineKeys.publicTimeline,
            ]
            let scores = try await world.redis.pipeline(
                keys.map { TimelineKeys.holding(tweetID, in: $0) })
            for (key, score) in zip(keys, scores) where !score.isNull {
                places.append("member of \(key)")
            }
            return places
        }

        private static func event(_ change: TimelineEvent.Change) -> TimelineEventBatch {
            TimelineEventBatch(events: [TimelineEvent(id: .random(in: 1...Int64.max), shard: 0, change: change)])
        }

        private static func pair(_ world: TimelineWorld) async throws -> (author: UserRecord, reader: UserRecord) {
            let author = try await world.makeUser()
            let reader = try await world.makeUser()
            _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
            return (author, reader)
        }

        /// A creation's cache write reports tombstones (`SET … NX GET`): it caches a new tweet, overwrites neither a
        /// tombstone nor a cached tweet, reports only tombstones, and for a tweet older than the cache TTL only looks
        /// (a tombstone is still reported; nothing is cached).
        @Test func cachingCreatedTweetsReportsTheirTombstonesAndOverwritesNothing() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let cache = world.service.cache
                let fresh = try await world.tweet(author, "fresh")
                let deleted = try await world.tweet(author, "deleted")
                let cached = try await world.tweet(author, "cached")
                var old = try await world.tweet(author, "old")
                old.id = TweeterID.make(
                    unixMillis: TweeterID.epochMillis + 1_000, shard: 0, sequence: .random(in: 0..<1_023))
                var oldDeleted = old
                oldDeleted.id += 1
                try await cache.store([cached], tombstones: [deleted.id, oldDeleted.id])
                var edited = cached
                edited.text = "edited"

                let reported = try await cache.storeCreated(
                    [fresh, deleted, edited, old, oldDeleted], replicatedTo: RedisReplication(replicas: 1))

                #expect(reported == [deleted.id, oldDeleted.id])
                #expect(try await cache.isDeleted(deleted.id), "the tombstone stays")
                let values = try await world.redis.pipeline(
                    [fresh, cached, old].map { RedisCommand("GET", key: TimelineKeys.tweet($0.id)) })
                #expect(values[0].bytes.map { Array($0) } == Array(fresh.payload().readableBytesView))
                #expect(
                    values[1].bytes.map { Array($0) } == Array(cached.payload().readableBytesView), "not overwritten")
                #expect(values[2].isNull, "older than the cache TTL: not cached")
            }
        }

        @Test func aCreateReplayedAfterItsDeleteAndALateCacheFillBringNothingBack() async throws {
            try await TimelineWorld.with { world in
                let (author, reader) = try await Self.pair(world)
                let tweet = try await world.tweet(author, "doomed")
                try await world.settle()
                #expect(try await Self.visible(tweet.id, reader: reader.id, author: author.id, in: world).count == 7)

                _ = try await world.tweets.call(
                    DeleteTweet.self, TweetDeletion(tweetID: tweet.id, requesterID: author.id))
                try await world.settle()
                // The create again, as a redelivered outbox row or a reclaimed job would bring it, and a cache fill that
                // read the tweet before the delete and writes after it.
                _ = try await world.timelines.call(
                    DeliverEvents.self, Self.event(.tweetCreated(tweet, authorFollowers: 0)))
                try await world.settle()
                try await world.service.cache.store([tweet])

                #expect(try await Self.visible(tweet.id, reader: reader.id, author: author.id, in: world) == [])
                #expect(try await world.service.cache.isDeleted(tweet.id), "the tombstone won every write")
            }
        }

        /// Created tweets are applied on delivery, or queued with every other event (`applyCreationsOnDelivery` off):
        /// either way a create and its delete end deleted in either order, and when they run at once (a create applied
        /// by its delivery while the delete's is delivered and its job worked; or both jobs taken by two workers).
        @Test(arguments: [true, false])
        func createAndDeleteEndDeletedInEitherOrderAndWhenRunAtOnce(appliedOnDelivery: Bool) async throws {
            var configuration = TimelineConfiguration()
            configuration.applyCreationsOnDelivery = appliedOnDelivery
            try await TimelineWorld.with(configuration) { world in
                let (author, reader) = try await Self.pair(world)
                try await world.settle()
                // The delete's event first, the create's after.
                let reordered = try await world.tweet(author, "reordered")
                _ = try await world.timelines.call(
                    DeliverEvents.self, Self.event(.tweetDeleted(tweetID: reordered.id, authorID: author.id)))
                try await world.settle()
                _ = try await world.timelines.call(
                    DeliverEvents.self, Self.event(.tweetCreated(reordered, authorFollowers: 0)))
                try await world.settle()
                #expect(try await Self.visible(reordered.id, reader: reader.id, author: author.id, in: world) == [])

                // Each as a delivery of its own, at once, while two workers take whatever is queued (the delete's
                // job, and the create's when it is queued), again and again.
                let workers = world.service.workers(consumer: "race", logger: TimelineWorld.logger)
                // Each worker reads until it took a job, for at most 200 ms (only one job may come its way).
                @Sendable func work(_ consumer: String) async throws {
                    _ = try await eventually(within: .milliseconds(200), every: .milliseconds(1)) {
                        try await workers.runOnce(consumer: consumer, count: 1) > 0
                    }
                }
                for round in 0..<10 {
                    let tweet = try await world.tweet(author, "raced \(round)")
                    async let create = world.timelines.call(
                        DeliverEvents.self,
                        TimelineEventBatch(events: [
                            TimelineEvent(id: 1, shard: 0, change: .tweetCreated(tweet, authorFollowers: 1))
                        ]))
                    async let delete = world.timelines.call(
                        DeliverEvents.self,
                        TimelineEventBatch(events: [
                            TimelineEvent(
                                id: 2, shard: 0, change: .tweetDeleted(tweetID: tweet.id, authorID: author.id))
                        ]))
                    async let first: Void = work("race-a")
                    async let second: Void = work("race-b")
                    _ = try await (create, delete, first, second)
                    try await world.settle()
                    #expect(
                        try await Self.visible(tweet.id, reader: reader.id, author: author.id, in: world) == [],
                        "round \(round)")
                }
            }
        }

        /// A Redis that refuses writes (`maxmemory 1`, so every write is `OOM`) makes `deliver_events` fail, so the
        /// TweetService keeps its outbox rows; once Redis accepts writes again they are delivered and shown.
        @Test func aRefusedWriteIsNeverAcknowledgedAndIsDeliveredOnceRedisAcceptsWritesAgain() async throws {
            try await TimelineWorld.with { world in
                let (author, reader) = try await Self.pair(world)
                try await world.settle()
                let tweet = try await world.tweet(author, "refused at first")
                _ = try await world.redis.onAllMasters(RedisCommand("CONFIG", "SET", "maxmemory", 1))
                let refused: (delivery: String?, outbox: Int64)
                do {
                    let delivery = await wireOutcome {
                        try await world.timelines.call(
                            DeliverEvents.self, Self.event(.tweetCreated(tweet, authorFollowers: 0)))
                    }
                    await world.relay.drain(shards: [TweeterID.shard(of: tweet.id)])
                    let outbox = try await world.database.withShard(TweeterID.shard(of: tweet.id)) {
                        connection, schema in
                        try connection.query("SELECT count(*) AS n FROM \(schema).outbox")[0].int64("n")
                    }
                    refused = (delivery, outbox)
                } catch {
                    _ = try await world.redis.onAllMasters(RedisCommand("CONFIG", "SET", "maxmemory", 0))
                    throw error
                }
                _ = try await world.redis.onAllMasters(RedisCommand("CONFIG", "SET", "maxmemory", 0))
                #expect(refused.delivery == "unavailable/redis_unavailable")
                #expect(refused.outbox >= 1, "the outbox kept the event that Redis refused")

                try await world.settle()
                let home = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 10))
                #expect(home.tweets.map(\.id).contains(tweet.id))
            }
        }

        /// A delivery that would take the fan-out queue past its bound is refused with `resource_exhausted`
        /// (`queue_full`) and writes nothing, not even a delete's tombstone: the relay keeps the events and sends them
        /// again. (A bound of zero refuses every delivery whatever other tests have queued.)
        @Test func aDeliveryPastTheQueuesBoundIsRefusedAndWritesNothing() async throws {
            var configuration = TimelineConfiguration()
            configuration.maxQueueLength = 0
            try await TimelineWorld.with(configuration) { world in
                let tweetID = TweeterID.make(unixMillis: TweeterID.epochMillis + 11, shard: 4_001, sequence: 3)
                let delete = Self.event(.tweetDeleted(tweetID: tweetID, authorID: 5))
                func refusal() async -> String? {
                    do {
                        _ = try await world.timelines.call(DeliverEvents.self, delete)
                        return nil
                    } catch {
                        return "\(error.code)/\(error.reason)"
                    }
                }
                // The first reads the queue's length, the second is held against that reading.
                #expect(await refusal() == "resource_exhausted/queue_full")
                #expect(await refusal() == "resource_exhausted/queue_full")
                let tombstone = try await world.redis.send(RedisCommand("GET", key: TimelineKeys.tweet(tweetID)))
                #expect(tombstone == .null, "nothing of the refused delivery was written")
            }
        }

        /// An undecodable entry, a job that fails for good (its author is unknown to the store) and a job reclaimed more
        /// often than `maxDeliveries` are parked in the dead-letter stream; none stays pending, and the job queued behind
        /// them is done.
        @Test func jobsThatCanNeverSucceedAreDeadLetteredAndBlockNothing() async throws {
            var configuration = TimelineConfiguration()
            configuration.reclaimAfter = .milliseconds(200)
            configuration.maxDeliveries = 1
            try await TimelineWorld.with(configuration) { world in
                let (author, reader) = try await Self.pair(world)
                try await world.settle()
                let deadBefore =
                    try await world.redis.send(RedisCommand("XLEN", key: FanOutQueue.deadLetters)).integer ?? 0
                // A shard no map has:
                let unknownAuthor = TweeterID.make(unixMillis: TweeterID.epochMillis + 7, shard: 5_000, sequence: 9)
                // A worker takes a job and dies; after one more delivery it is parked.
                _ = try await world.redis.send(
                    FanOutQueue.add(
                        FanOutJob(
                            .events([
                                TimelineEvent(
                                    id: 9, shard: 0, change: .unfollowed(FollowEdge(followerID: 1, followeeID: 2)))
                            ]))))
                #expect(
                    try await world.service.queue.next(consumer: "crashed", count: FanOutStreams.keys.count).taken == 1)
                _ = try await world.redis.pipeline([
                    RedisCommand("XADD", key: FanOutStreams.keys[3], "*", "job", "not a job"),
                    FanOutQueue.add(
                        FanOutJob(.followerChunk(tweetID: 1, authorID: unknownAuthor, cursor: nil, remove: false))),
                ])
                let tweet = try await world.tweet(author, "behind the bad ones")
                // Worked until nothing is left: the crashed worker's job is reclaimable once it has been idle 200 ms.
                var stats = try await world.service.queue.stats()
                for _ in 0..<100 {
                    try await world.settle()
                    stats = try await world.service.queue.stats()
                    if stats.pending + stats.waiting == 0 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }

                let deadAfter =
                    try await world.redis.send(RedisCommand("XLEN", key: FanOutQueue.deadLetters)).integer ?? 0
                #expect(deadAfter - deadBefore == 3)
                #expect(stats.pending == 0 && stats.waiting == 0)
                let home = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 10))
                #expect(home.tweets.map(\.id) == [tweet.id])
            }
        }

        /// A worker that held its jobs past half the reclaim time keeps those it still owns (renewed) and gives up those
        /// another instance reclaimed meanwhile: no job is worked by two instances at once.
        @Test func aSlowWorkerRenewsItsClaimsAndLeavesReclaimedJobsToTheirNewOwner() async throws {
            var configuration = TimelineConfiguration()
            configuration.reclaimAfter = .milliseconds(100)
            try await TimelineWorld.with(configuration) { world in
                try await world.settle()
                let queue = world.service.queue
                func job(_ id: Int64) -> FanOutJob {
                    FanOutJob(
                        .events([
                            TimelineEvent(
                                id: id, shard: 0, change: .unfollowed(FollowEdge(followerID: 1, followeeID: 2)))
                        ]))
                }
                // One job on each stream, so that one read of every stream takes them all.
                let jobs = FanOutStreams.keys.map { stream in
                    job((0...).first { FanOutStreams.key(for: job(Int64($0))) == stream }.map(Int64.init) ?? 0)
                }
                _ = try await world.redis.pipeline(jobs.map(FanOutQueue.add))
                let slow = try await queue.next(consumer: "slow", count: FanOutStreams.keys.count).deliveries
                #expect(slow.count == jobs.count)
                let (kept, lost) = (Array(slow.prefix(3)), Array(slow.dropFirst(3)))
                #expect(try await queue.renewClaims(kept, consumer: "slow").count == kept.count)
                try await Task.sleep(for: .milliseconds(150))  // past the reclaim time: now any instance may take them
                _ = try await queue.renewClaims(kept, consumer: "slow")
                let swept = try await queue.next(consumer: "fast", count: FanOutStreams.keys.count).deliveries
                #expect(
                    Set(swept.map(\.streamID)) == Set(lost.map(\.streamID)),
                    "only the claims not renewed were reclaimed")
                #expect(try await queue.renewClaims(slow, consumer: "slow").map(\.streamID) == kept.map(\.streamID))
                try await queue.finish(kept + swept)
            }
        }

        /// A chunk job that is worked again (it failed after queuing the next chunk, or was reclaimed) does not queue
        /// it again: otherwise each retry would start one more copy of the rest of the fan-out.
        @Test func aChunkRetriedAfterQueuingItsSuccessorDoesNotQueueItAgain() async throws {
            try await TimelineWorld.with(TimelineConfiguration(fanOutChunkSize: 1_000, fanOutReadPages: 1)) { world in
                let author = try await world.makeUser()
                _ = try await addSyntheticFollowers(to: author, count: 2_500, database: world.database)
                try await world.settle()
                let tweet = try await world.tweet(author, "fanned out once")
                let chunk = FanOutJob(
                    .followerChunk(tweetID: tweet.id, authorID: author.id, cursor: nil, remove: false))
                for _ in 0..<3 {
                    try await world.service.processor.process(chunk)
                }
                // 2,500 followers are three chunks of 1,000: the job does the first and queues the next, once.
                #expect(try await world.service.queue.stats().waiting == 1, "the next chunk is queued once")
                try await world.settle()
            }
        }

        /// An error reply to a read is a 503 at the Gateway (`unavailable` here), never an empty page.
        @Test func aReadThatGetsAnErrorReplyFailsInsteadOfAnsweringEmpty() async throws {
            try await TimelineWorld.with { world in
                let user = try await world.makeUser()
                _ = try await world.redis.send(RedisCommand("SET", key: TimelineKeys.home(user.id), "not a sorted set"))
                _ = try await world.redis.send(RedisCommand("SET", key: TimelineKeys.homeBuilt(user.id), "1"))
                let query = TimelineQuery(userID: user.id, limit: 10)
                #expect(
                    await wireOutcome { try await world.timelines.call(ReadHomeTimeline.self, query) }
                        == "unavailable/redis_unavailable")
                _ = try await world.redis.send(RedisCommand("DEL", key: TimelineKeys.home(user.id)))
            }
        }
    }
}
