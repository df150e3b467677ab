import Foundation
import NIOCore
import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// The created tweets a worker takes together are applied together (`FanOutProcessor.create`); one that fails for
    /// good must not hold the others back or take them to the dead letters with it. (Delivered together, they cannot
    /// be applied on delivery either, so the delivery queues all five: `EventDelivery`.)
    @Suite("Created tweets applied together")
    struct BatchedCreationTests {
        @Test func tweetsTakenTogetherReachTheirFollowersAndOneThatFailsForGoodIsDeadLetteredAlone() async throws {
            try await TimelineWorld.with { world in
                var pairs: [(author: UserRecord, reader: UserRecord)] = []
                for _ in 0..<4 {
                    let author = try await world.makeUser()
                    let reader = try await world.makeUser()
                    _ = try await world.tweets.call(
                        Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                    pairs.append((author, reader))
                }
                try await world.settle()
                try await markHomesBuilt(pairs.map(\.reader.id), redis: world.redis)
                let deadBefore =
                    try await world.redis.send(RedisCommand("XLEN", key: FanOutQueue.deadLetters)).integer ?? 0

                var tweets: [TweetRecord] = []
                for (index, pair) in pairs.enumerated() {
                    tweets.append(
                        try await world.tweets.call(
                            CreateTweet.self, NewTweet(authorID: pair.author.id, text: "together \(index)")))
                }
                // An author on a logical shard that no server holds: asking for its followers fails for good.
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let stranger = TweetRecord(
                    id: TweeterID.make(unixMillis: now, shard: 4_000, sequence: 1),
                    userID: TweeterID.make(unixMillis: now - 1_000, shard: 4_000, sequence: 2), username: "stranger",
                    text: "nobody follows", createdAtMillis: now, inReplyToID: nil)
                let events = (tweets + [stranger]).enumerated().map { index, tweet in
                    TimelineEvent(id: Int64(index), shard: 0, change: .tweetCreated(tweet, authorFollowers: 1))
                }
                _ = try await world.timelines.call(DeliverEvents.self, TimelineEventBatch(events: events))
                let workers = world.service.workers(consumer: "together", logger: TimelineWorld.logger)
                #expect(try await workers.runOnce(consumer: "together", count: 16) == 1, "one delivery, one entry")

                for (pair, tweet) in zip(pairs, tweets) {
                    let home = try await world.redis.send(
                        TimelineKeys.holding(tweet.id, in: TimelineKeys.home(pair.reader.id)))
                    #expect(!home.isNull, "\(tweet.text) reached its author's follower")
                }
                let deadAfter =
                    try await world.redis.send(RedisCommand("XLEN", key: FanOutQueue.deadLetters)).integer ?? 0
                #expect(deadAfter == deadBefore + 1, "only the stranger's job was dead-lettered")
                let parked = try await world.redis.send(
                    RedisCommand("XREVRANGE", key: FanOutQueue.deadLetters, "+", "-", "COUNT", 1))
                let payload = parked.array?.first?.array?.last?.array?.dropFirst().first?.bytes ?? []
                #expect(
                    try FanOutJob(payload: ByteBuffer(bytes: payload)) == FanOutJob(.events([events[4]])),
                    "the stranger's event alone, not the delivery it came in")
                let stats = try await world.service.queue.stats()
                #expect(stats.pending == 0 && stats.waiting == 0, "every job was acknowledged or parked")
            }
        }
    }
}
