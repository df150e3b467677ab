import Foundation
import Testing
import TweetService
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// `deliver_events` applies created tweets before it answers (`EventDelivery`) and queues every other event; a
    /// creation it cannot apply at once is queued instead.
    @Suite("Creations applied on delivery")
    struct CreationsOnDeliveryTests {
        private static func created(_ tweet: TweetRecord, authorFollowers: Int64) -> TimelineEventBatch {
            TimelineEventBatch(events: [
                TimelineEvent(id: 1, shard: 0, change: .tweetCreated(tweet, authorFollowers: authorFollowers))
            ])
        }

        /// A tweet the store never saw, by `author`: its delivery is the only way it reaches a timeline (no outbox row
        /// of it can be delivered meanwhile by a relay).
        private static func tweet(by author: UserRecord, _ text: String) -> TweetRecord {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return TweetRecord(
                id: TweeterID.make(
                    unixMillis: now, shard: TweeterID.shard(of: author.id), sequence: .random(in: 0..<1024)),
                userID: author.id, username: author.username, text: text, createdAtMillis: now, inReplyToID: nil)
        }

        /// With a queue that refuses every entry (a bound of zero), a creation is still acknowledged, and its
        /// followers' homes and its author's profile hold it when the answer comes: it was applied, not queued. With
        /// `applyCreationsOnDelivery` off, the same delivery is refused (`queue_full`) and writes nothing.
        @Test(arguments: [true, false])
        func aCreationIsAppliedBeforeItsDeliveryIsAnswered(appliedOnDelivery: Bool) async throws {
            var configuration = TimelineConfiguration()
            configuration.maxQueueLength = 0
            configuration.applyCreationsOnDelivery = appliedOnDelivery
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let followers = [try await world.makeUser(), try await world.makeUser()]
                try await world.follow(author, by: followers)
                try await markHomesBuilt(followers.map(\.id), redis: world.redis)
                let tweet = Self.tweet(by: author, "applied at once")

                let outcome = await wireOutcome {
                    try await world.timelines.call(DeliverEvents.self, Self.created(tweet, authorFollowers: 2))
                }
                let keys = followers.map { TimelineKeys.home($0.id) } + [TimelineKeys.profile(author.id)]
                let holding = try await world.redis.pipeline(keys.map { TimelineKeys.holding(tweet.id, in: $0) })
                let held = holding.filter { !$0.isNull }.count
                if appliedOnDelivery {
                    #expect(outcome == nil)
                    #expect(held == keys.count, "both homes and the profile hold the tweet")
                } else {
                    #expect(outcome == "resource_exhausted/queue_full")
                    #expect(held == 0, "nothing of the refused delivery was written")
                }
            }
        }

        /// What one delivery applies at once is bounded by the follower counts its events carry (each counted up to a
        /// page): with a queue that refuses every entry, four creations by authors of a full page each are accepted
        /// (20,000 homes), a fifth makes the delivery queue one and be refused, and so does a creation whose count is
        /// unknown (an event written before counts were carried).
        @Test(arguments: [(4, Int64?.some(5_000), true), (5, Int64?.some(5_000), false), (1, Int64?.none, false)])
        func aDeliveryAppliesAtMostItsBudgetOfFollowersAndQueuesTheRest(
            creations: Int, authorFollowers: Int64?, accepted: Bool
        ) async throws {
            var configuration = TimelineConfiguration()
            configuration.maxQueueLength = 0
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let events = (0..<creations).map { index in
                    TimelineEvent(
                        id: Int64(index), shard: 0,
                        change: .tweetCreated(
                            Self.tweet(by: author, "budget \(index)"), authorFollowers: authorFollowers))
                }
                let outcome = await wireOutcome {
                    try await world.timelines.call(DeliverEvents.self, TimelineEventBatch(events: events))
                }
                #expect(outcome == (accepted ? nil : "resource_exhausted/queue_full"))
            }
        }

        /// A creation that cannot be applied at once for a passing cause (a follower's home is, for a while, a key of
        /// the wrong type, so the delivery's script is refused with `WRONGTYPE`) is queued instead, and the delivery is
        /// acknowledged; the workers apply it once the key is repaired.
        @Test func aCreationThatCannotBeAppliedAtOnceIsQueuedAndDoneByTheWorkers() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let (healthy, broken) = (try await world.makeUser(), try await world.makeUser())
                try await world.follow(author, by: [healthy, broken])
                try await markHomesBuilt([healthy.id, broken.id], redis: world.redis)
                let brokenHome = TimelineKeys.home(broken.id)
                _ = try await world.redis.send(RedisCommand("SET", key: brokenHome, "not a timeline"))
                let tweet = Self.tweet(by: author, "queued after a refusal")
                let holds = { (user: UserRecord) in
                    !(try await world.redis.send(TimelineKeys.holding(tweet.id, in: TimelineKeys.home(user.id)))).isNull
                }

                let outcome = await wireOutcome {
                    try await world.timelines.call(DeliverEvents.self, Self.created(tweet, authorFollowers: 2))
                }
                #expect(outcome == nil, "acknowledged once queued")

                _ = try await world.redis.send(RedisCommand("DEL", key: brokenHome))
                try await markHomesBuilt([broken.id], redis: world.redis)
                let workers = world.service.workers(consumer: "after-refusal", logger: TimelineWorld.logger)
                try await eventually("the queued creation's fan-out", seconds: 10, every: .milliseconds(50)) {
                    _ = try await workers.runOnce(consumer: "after-refusal", count: 16)
                    return try await holds(broken)
                }
                #expect(try await holds(healthy))
            }
        }
    }
}
