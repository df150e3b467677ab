import Foundation
import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// A delivery's events are one queue entry, worked as parts (`FanOutWorkers.runOnce`). The entry is acknowledged
    /// only when every part is done, so a part that fails for a passing cause is not lost with its entry.
    @Suite("A delivery's parts")
    struct EntryPartsTests {
        /// Two follows in one entry; the second follower's home is, for a while, a key of the wrong type, so its
        /// backfill is refused (`WRONGTYPE`, not a failure for good). The first part is applied, but the entry stays
        /// pending and nothing is parked; once the key is repaired, another worker reclaims the entry and both parts
        /// are done (the first again, harmlessly).
        @Test func aPartThatFailsForAPassingCauseLeavesItsWholeEntryForARetry() async throws {
            var configuration = TimelineConfiguration()
            configuration.reclaimAfter = .milliseconds(200)
            try await TimelineWorld.with(configuration) { world in
                let (first, second) = (try await world.makeUser(), try await world.makeUser())
                let (firstFollower, secondFollower) = (try await world.makeUser(), try await world.makeUser())
                let firstTweet = try await world.tweet(first, "backfilled at once")
                let secondTweet = try await world.tweet(second, "backfilled on the retry")
                try await world.settle()
                try await markHomesBuilt([firstFollower.id, secondFollower.id], redis: world.redis)
                let brokenHome = TimelineKeys.home(secondFollower.id)
                _ = try await world.redis.send(RedisCommand("SET", key: brokenHome, "not a sorted set"))
                let deadLetters = {
                    try await world.redis.send(RedisCommand("XLEN", key: FanOutQueue.deadLetters)).integer ?? 0
                }
                let deadBefore = try await deadLetters()
                let holds = { (reader: UserRecord, tweet: TweetRecord) in
                    let score = try await world.redis.send(
                        TimelineKeys.holding(tweet.id, in: TimelineKeys.home(reader.id)))
                    return !score.isNull
                }

                let follows = [
                    FollowEdge(followerID: firstFollower.id, followeeID: first.id),
                    FollowEdge(followerID: secondFollower.id, followeeID: second.id),
                ]
                let events = follows.enumerated().map { index, edge in
                    TimelineEvent(id: Int64(index), shard: 0, change: .followed(edge))
                }
                _ = try await world.timelines.call(DeliverEvents.self, TimelineEventBatch(events: events))
                let workers = world.service.workers(consumer: "refused", logger: TimelineWorld.logger)
                #expect(try await workers.runOnce(consumer: "refused", count: 16) == 1, "one delivery, one entry")
                #expect(try await holds(firstFollower, firstTweet), "the first part was applied")
                var stats = try await world.service.queue.stats()
                #expect(stats.pending == 1, "the entry is not acknowledged while a part of it failed")
                #expect(try await deadLetters() == deadBefore, "a passing failure parks nothing")

                _ = try await world.redis.send(RedisCommand("DEL", key: brokenHome))
                let retrying = world.service.workers(consumer: "retrying", logger: TimelineWorld.logger)
                var reclaimed = 0
                try await eventually("another worker's reclaim of the entry", seconds: 10, every: .milliseconds(50)) {
                    reclaimed = try await retrying.runOnce(consumer: "retrying", count: 16)
                    return reclaimed > 0
                }
                #expect(reclaimed == 1, "another worker reclaimed the entry once it was idle for 200 ms")
                #expect(try await holds(secondFollower, secondTweet), "the failed part was done on the retry")
                #expect(try await holds(firstFollower, firstTweet))
                stats = try await world.service.queue.stats()
                #expect(stats.pending == 0 && stats.waiting == 0, "the entry was acknowledged once every part was done")
                #expect(try await deadLetters() == deadBefore)
            }
        }
    }
}
