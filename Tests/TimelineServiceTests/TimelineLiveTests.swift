import Testing
import TweetService
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    @Suite("Timelines on the live cluster")
    struct Timelines {
        @Test func membersPageExactlyOverIdsThatDifferInLowBitsWhateverOrderTheyCameIn() async throws {
            try await LiveRedis.withClusterClient { redis in
                let key = LiveRedis.uniquePrefix("lex") + "{t}"
                let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 1_000_000, shard: 5, sequence: 0)
                let ids = (0..<300).map { base | Int64($0) }
                _ = try await redis.pipeline(
                    ids.shuffled().flatMap { TimelineCommands.add([$0], to: key, capacity: 1_000, trimSlack: 0) })
                var seen: [Int64] = []
                var maxID: Int64?
                while true {
                    let page = try await redis.send(
                        TimelineCommands.newestFirst(key, maxID: maxID, sinceID: nil, limit: 7))
                    let pageIDs = (page.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                    guard let last = pageIDs.last else { break }
                    seen += pageIDs
                    maxID = last
                }
                #expect(seen == ids.reversed())
                _ = try await redis.send(RedisCommand("DEL", key: key))
            }
        }

        @Test func tweetsReachPublicProfileAndHomesAndPageWithoutGaps() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let reader = try await world.makeUser()
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                var created: [Int64] = []
                for index in 0..<30 {
                    created.append(try await world.tweet(author, "p\(index)").id)
                }
                try await world.settle()
                for (owner, name) in [(reader.id, "the reader's home"), (author.id, "the author's own home")] {
                    var seen: [Int64] = []
                    var maxID: Int64?
                    repeat {
                        let page = try await world.timelines.call(
                            ReadHomeTimeline.self, TimelineQuery(userID: owner, limit: 7, maxID: maxID))
                        seen += page.tweets.map(\.id)
                        maxID = page.nextMaxID
                    } while maxID != nil
                    #expect(seen == created.reversed(), "\(name) pages in order with no repeat or gap")
                }
                // The materialized profile timeline (what home rebuilds read) holds every tweet too.
                let profile = try await world.redis.send(
                    RedisCommand("LLEN", key: TimelineKeys.profile(author.id))
                ).integer
                #expect(profile == 30)
                let newest = try await world.timelines.call(ReadPublicTimeline.self, TimelineQuery(limit: 3))
                #expect(newest.tweets.map(\.id) == Array(created.reversed().prefix(3)))
                let window = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 2, sinceID: created[26]))
                #expect(window.tweets.map(\.id) == [created[29], created[28]] && window.nextMaxID == created[28])
                #expect(
                    await wireOutcome {
                        try await world.timelines.call(ReadPublicTimeline.self, TimelineQuery(limit: 201))
                    }
                        == "invalid_argument/invalid_limit")
            }
        }

        @Test func homeTimelinesAreCappedAndPublicIsTrimmedByAge() async throws {
            var configuration = TimelineConfiguration()
            configuration.homeCapacity = 5
            configuration.homeTrimSlack = 0
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                // Built by a first read: the author's own tweets reach a built home, as a follower's do.
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: author.id, limit: 5))
                // A public entry from 2026-01-02, far older than 30 days.
                let ancient = TweeterID.make(unixMillis: TweeterID.epochMillis + 86_400_000, shard: 1, sequence: 1)
                _ = try await world.redis.send(
                    RedisCommand("ZADD", key: TimelineKeys.publicTimeline, 0, TimelineKeys.member(ancient)))
                var created: [Int64] = []
                for index in 0..<8 {
                    created.append(try await world.tweet(author, "c\(index)").id)
                }
                try await world.settle()
                let home = try await world.redis.send(
                    TimelineCommands.newestFirst(TimelineKeys.home(author.id), maxID: nil, sinceID: nil, limit: -1))
                #expect(
                    (home.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                        == Array(created.reversed().prefix(5)))
                let stillThere = try await world.redis.send(
                    TimelineKeys.holding(ancient, in: TimelineKeys.publicTimeline))
                #expect(stillThere.isNull)
            }
        }

        @Test func deletedTweetsAreDroppedFromReadsAndFromEveryTimeline() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let fan = try await world.makeUser()
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: fan.id, followeeID: author.id))
                let kept = try await world.tweet(author, "kept")
                let doomed = try await world.tweet(author, "doomed")
                try await world.settle()
                // Deleted in the store, its event not yet applied: hydration finds it gone and leaves it out.
                _ = try await world.tweets.call(
                    DeleteTweet.self, TweetDeletion(tweetID: doomed.id, requesterID: author.id))
                _ = try await world.redis.send(RedisCommand("DEL", key: TimelineKeys.tweet(doomed.id)))
                let before = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: fan.id, limit: 10))
                #expect(before.tweets.map(\.id) == [kept.id])
                // Once the event is applied, it leaves every timeline.
                try await world.settle()
                for key in [
                    TimelineKeys.home(fan.id), TimelineKeys.home(author.id), TimelineKeys.profile(author.id),
                    TimelineKeys.publicTimeline,
                ] {
                    let score = try await world.redis.send(
                        TimelineKeys.holding(doomed.id, in: key))
                    #expect(score.isNull, "\(key) no longer holds the deleted tweet")
                }
            }
        }

        @Test func fanOutToFiftyThousandFollowersWritesEachHomeOnce() async throws {
            var configuration = TimelineConfiguration()
            configuration.fanOutChunkSize = 5_000
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let followers = try await addSyntheticFollowers(to: author, count: 50_000, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                let tweet = try await world.tweet(author, "to fifty thousand")
                try await world.settle()
                try await expectEveryHome(of: followers, holds: tweet.id, redis: world.redis)
            }
        }

        @Test func fanOutClaimedByADeadInstanceIsReclaimedByAnother() async throws {
            // Chunks of one page, so that the fan-out is a chain of jobs the doomed instance can hold one of.
            var configuration = TimelineConfiguration(fanOutChunkSize: 1_000, fanOutReadPages: 1)
            configuration.reclaimAfter = .milliseconds(300)
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let followers = try await addSyntheticFollowers(to: author, count: 5_000, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                let tweet = try await world.tweet(author, "survives a crash")
                await world.relay.drain(shards: Array(0..<1024))
                let survivor = world.service.workers(consumer: "survivor", logger: TimelineWorld.logger)
                let doomed = world.service.workers(consumer: "doomed", logger: TimelineWorld.logger)
                // The survivor applies the event, which queues the first chunk; the doomed instance claims it and dies.
                while try await survivor.runOnce(consumer: "survivor", count: 1) > 0 {
                    if try await world.service.queue.stats().waiting > 0 { break }
                }
                let claimed = try await world.service.queue.next(consumer: "doomed", count: 16).deliveries
                #expect(!claimed.isEmpty, "the doomed instance holds work when it dies")
                _ = doomed
                let stats = try await world.service.queue.stats()
                #expect(stats.pending >= 1)
                // Once the jobs have been idle for the reclaim time, the survivor takes them over and finishes the fan-out:
                // worked until the queue holds nothing, for at most 30 s.
                let deadline = ContinuousClock.now + .seconds(30)
                var left = try await world.service.queue.stats()
                while left.pending + left.waiting > 0, ContinuousClock.now < deadline {
                    if try await survivor.runOnce(consumer: "survivor", count: 16) == 0 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    left = try await world.service.queue.stats()
                }
                #expect(left.pending == 0 && left.waiting == 0, "the dead instance's jobs were reclaimed and done")
                try await expectEveryHome(of: followers, holds: tweet.id, redis: world.redis)
            }
        }

        @Test func flushedRedisLeadsToRebuiltHomeTimelines() async throws {
            try await TimelineWorld.with { world in
                let reader = try await world.makeUser()
                let authors = [try await world.makeUser(), try await world.makeUser()]
                for author in authors {
                    _ = try await world.tweets.call(
                        Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                }
                var created: [Int64] = []
                for index in 0..<6 {
                    created.append(try await world.tweet(authors[index % 2], "f\(index)").id)
                }
                created.append(try await world.tweet(reader, "mine").id)
                try await world.settle()
                let before = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 50))
                #expect(before.tweets.map(\.id) == created.reversed())

                _ = try await world.redis.onAllMasters(RedisCommand("FLUSHALL"))
                try await world.service.queue.prepare()
                let after = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 50))
                #expect(after.tweets.map(\.id) == created.reversed(), "rebuilt from the store, not empty")
            }
        }

        @Test func hybridReadTimeMergeEqualsFullFanOut() async throws {
            var full = TimelineConfiguration()
            full.celebrityThreshold = nil
            var hybrid = TimelineConfiguration()
            hybrid.celebrityThreshold = 3
            let fullPages = try await TimelineWorld.with(full) { try await celebrityScenario($0) }
            let hybridPages = try await TimelineWorld.with(hybrid) { try await celebrityScenario($0) }
            #expect(fullPages.count == 16)
            #expect(hybridPages == fullPages)
        }

        /// The followed-celebrities list is cached after a read; a follow drops it, so a celebrity followed after that
        /// read shows up in the merge at once, not after the cache's TTL.
        @Test func aCelebrityFollowedAfterAReadIsMergedAtOnce() async throws {
            var hybrid = TimelineConfiguration()
            hybrid.celebrityThreshold = 2
            hybrid.followedCelebritiesTTL = .seconds(3600)
            try await TimelineWorld.with(hybrid) { world in
                let stars = [try await world.makeUser(), try await world.makeUser()]
                let reader = try await world.makeUser()
                for fan in [try await world.makeUser(), try await world.makeUser()] {
                    for star in stars {
                        _ = try await world.tweets.call(
                            Follow.self, FollowEdge(followerID: fan.id, followeeID: star.id))
                    }
                }
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: stars[0].id))
                try await world.settle()
                let first = try await world.tweet(stars[0], "first star")
                _ = try await world.tweet(stars[1], "makes the second star a celebrity")
                try await world.settle()
                let before = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 10))
                #expect(before.tweets.map(\.id) == [first.id])

                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: stars[1].id))
                try await world.settle()
                let later = try await world.tweet(stars[1], "after the follow")
                try await world.settle()
                let home = try await world.redis.send(
                    TimelineKeys.holding(later.id, in: TimelineKeys.home(reader.id)))
                #expect(home.isNull, "a celebrity's tweet is not written to followers")
                let after = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 10))
                #expect(after.tweets.first?.id == later.id, "merged from the new followee's profile")
            }
        }

        /// Counts the whole queue: nothing else queues meanwhile (`RedisLiveTests` run one at a time, and
        /// `scripts/test` runs one target at a time; `settle()` first empties what earlier targets left).
        @Test func fanOutDelayIsHowLongTheOldestUntakenJobWaited() async throws {
            try await TimelineWorld.with { world in
                try await world.settle()
                let idle = try await world.timelines.call(ReadFanOutDelay.self, WireEmpty())
                #expect(idle == ReadFanOutDelay.Response(waiting: 0, oldestWaitMillis: 0))

                // A follow's event is queued (a created tweet's is applied on delivery).
                let (followee, follower) = (try await world.makeUser(), try await world.makeUser())
                try await world.follow(followee, by: [follower])
                await world.relay.drain(shards: Array(0..<1024))
                // The wait grows by Redis's clock, from the job's stream id, while no worker takes the job.
                var behind = ReadFanOutDelay.Response(waiting: 0, oldestWaitMillis: 0)
                let grew = try await eventually(every: .milliseconds(20)) {
                    behind = try await world.timelines.call(ReadFanOutDelay.self, WireEmpty())
                    return behind.oldestWaitMillis >= 300
                }
                #expect(grew, "the untaken job's wait reached 300 ms (last: \(behind))")
                #expect(behind.waiting == 1)

                // Taken by a worker that then died: no longer waiting, so it does not make the fan-out look behind
                // (the queue's lag, which counts it, does).
                let taken = try await world.service.queue.next(consumer: "a-worker-that-died", count: 16)
                #expect(!taken.deliveries.isEmpty)
                let afterTaking = try await world.timelines.call(ReadFanOutDelay.self, WireEmpty())
                #expect(afterTaking == ReadFanOutDelay.Response(waiting: 0, oldestWaitMillis: 0))
                #expect(try await world.timelines.call(ReadQueueStats.self, WireEmpty()).lagMillis >= 300)
                try await world.service.queue.finish(taken.deliveries)
            }
        }

        @Test func queueStatsReportDepth() async throws {
            try await TimelineWorld.with { world in
                let stats = try await world.timelines.call(ReadQueueStats.self, WireEmpty())
                #expect(stats.waiting >= 0 && stats.pending >= 0 && stats.lagMillis >= 0)
            }
        }
    }
}

/// A star with three followers and an ordinary author with one, tweeting in turn; returns what the first follower's
/// home timeline shows, page by page, as texts (ids differ between runs, texts do not).
func celebrityScenario(_ world: TimelineWorld) async throws -> [String] {
    let star = try await world.makeUser()
    let ordinary = try await world.makeUser()
    let fans = [try await world.makeUser(), try await world.makeUser(), try await world.makeUser()]
    for fan in fans {
        _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: fan.id, followeeID: star.id))
    }
    _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: fans[0].id, followeeID: ordinary.id))
    try await world.settle()
    for index in 0..<6 {
        _ = try await world.tweet(star, "star \(index)")
        _ = try await world.tweet(ordinary, "ordinary \(index)")
        if index % 2 == 0 {
            _ = try await world.tweet(fans[0], "own \(index)")
        }
    }
    let doomed = try await world.tweet(star, "deleted")
    _ = try await world.tweets.call(DeleteTweet.self, TweetDeletion(tweetID: doomed.id, requesterID: star.id))
    _ = try await world.tweet(star, "star last")
    try await world.settle()
    var texts: [String] = []
    var maxID: Int64?
    repeat {
        let page = try await world.timelines.call(
            ReadHomeTimeline.self, TimelineQuery(userID: fans[0].id, limit: 4, maxID: maxID))
        texts += page.tweets.map(\.text)
        maxID = page.nextMaxID
    } while maxID != nil
    return texts
}

/// Inserts `count` follower rows for `author` with made-up follower ids (only their timelines matter here), on edges
/// 1…`count`.
func addSyntheticFollowers(to author: UserRecord, count: Int, database: ShardedDatabase) async throws -> [Int64] {
    try await addSyntheticFollowers(to: author, edges: (1...count).map(Int64.init), database: database)
}

/// Inserts a follower row for `author` on each of `edges`, with made-up follower ids; returns them in that order.
func addSyntheticFollowers(to author: UserRecord, edges: [Int64], database: ShardedDatabase) async throws -> [Int64] {
    let base =
        TweeterID.make(unixMillis: TweeterID.epochMillis + 1, shard: 0, sequence: 0) + Int64.random(
            in: 1...1_000_000_000) * 100_000
    try await database.withShard(TweeterID.shard(of: author.id)) { connection, schema in
        try connection.query(
            """
            INSERT INTO \(schema).followers (followee_id, follower_id, edge_id)
            SELECT $1, $2::bigint + edge, edge FROM unnest($3::bigint[]) AS edge
            """,
            [String(author.id), String(base), "{" + edges.map(String.init).joined(separator: ",") + "}"]
        )
    }
    return edges.map { base + $0 }
}

/// Marks the home timelines of `users` built, as reading them once would: fan-out writes only to those (see
/// ``TimelineDelivery``).
func markHomesBuilt(_ users: [Int64], redis: RedisClient) async throws {
    for chunk in stride(from: 0, to: users.count, by: 5_000) {
        _ = try await redis.pipeline(
            users[chunk..<min(chunk + 5_000, users.count)].map {
                RedisCommand("SET", key: TimelineKeys.homeBuilt($0), TimelineKeys.homeIsBuilt, "EX", 3_600)
            })
    }
}

func expectEveryHome(of followers: [Int64], holds tweetID: Int64, redis: RedisClient) async throws {
    var missing = 0
    for chunk in stride(from: 0, to: followers.count, by: 5_000) {
        let slice = followers[chunk..<min(chunk + 5_000, followers.count)]
        let replies = try await redis.pipeline(
            slice.map { TimelineKeys.holding(tweetID, in: TimelineKeys.home($0)) })
        missing += replies.filter(\.isNull).count
    }
    #expect(missing == 0, "\(missing) of \(followers.count) home timelines lack the tweet")
}
