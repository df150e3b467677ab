import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// Each instance's in-process tweet cache (``LocalTweetCache``) on the real cluster: it answers from memory, and a
    /// delete delivered to another instance hides the tweet from this one's next read, before any fan-out work ran.
    @Suite("In-process tweet cache")
    struct LocalTweetCacheLiveTests {
        /// A second instance on the same Redis and TweetService, read directly (no Wire server of its own).
        private static func secondInstance(_ world: TimelineWorld) -> TimelineService {
            TimelineService(redis: world.redis, tweetService: world.service.cache.tweetService)
        }

        private static func readerFollowingAnAuthor(_ world: TimelineWorld) async throws -> (UserRecord, UserRecord) {
            let author = try await world.makeUser()
            let reader = try await world.makeUser()
            _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
            try await world.settle()
            return (author, reader)
        }

        private static func home(_ instance: TimelineService, of user: UserRecord) async throws -> [TweetRecord] {
            try await instance.reader.home(TimelineQuery(userID: user.id, limit: 20)).tweets
        }

        /// Replaces the tweet's entry in the Redis cache with other text: a read that still shows the old text was
        /// answered from the instance's memory. (Cached tweets never change; this only tells the two caches apart.)
        private static func overwriteInRedis(_ tweet: TweetRecord, in world: TimelineWorld) async throws {
            var other = tweet
            other.text = "not what was cached in memory"
            _ = try await world.redis.send(RedisCommand("SET", key: TimelineKeys.tweet(tweet.id), other.payload()))
        }

        @Test func aDeleteDeliveredToAnotherInstanceHidesTheTweetFromThisOnesMemory() async throws {
            try await TimelineWorld.with { world in
                let (author, reader) = try await Self.readerFollowingAnAuthor(world)
                let kept = try await world.tweet(author, "kept")
                let doomed = try await world.tweet(author, "doomed")
                try await world.settle()
                let other = Self.secondInstance(world)
                #expect(try await Self.home(other, of: reader).map(\.text) == ["doomed", "kept"])
                try await Self.overwriteInRedis(kept, in: world)
                #expect(
                    try await Self.home(other, of: reader).map(\.text) == ["doomed", "kept"],
                    "the second read is answered from the instance's memory")

                // The delete reaches the first instance only (deliver_events), and no fan-out job runs: the id is
                // still in the reader's home timeline.
                _ = try await world.tweets.call(
                    DeleteTweet.self, TweetDeletion(tweetID: doomed.id, requesterID: author.id))
                await world.relay.drain(shards: [TweeterID.shard(of: doomed.id)])
                let member = try await world.redis.send(
                    TimelineKeys.holding(doomed.id, in: TimelineKeys.home(reader.id)))
                #expect(!member.isNull, "the removal from timelines has not run yet")
                #expect(
                    try await Self.home(other, of: reader).map(\.text) == ["kept"],
                    "the delete was learned from the deletion log; the kept tweet still comes from memory")
            }
        }

        @Test func anInstanceThatCannotTellWhatItMissedForgetsEverything() async throws {
            try await TimelineWorld.with { world in
                let (author, reader) = try await Self.readerFollowingAnAuthor(world)
                // A delete first, so that every stream of the log has an entry this instance will have read.
                let first = try await world.tweet(author, "deleted through the log")
                let tweet = try await world.tweet(author, "deleted while the log was lost")
                try await world.settle()
                _ = try await world.tweets.call(
                    DeleteTweet.self, TweetDeletion(tweetID: first.id, requesterID: author.id))
                try await world.settle()
                let other = Self.secondInstance(world)
                #expect(try await Self.home(other, of: reader).map(\.id) == [tweet.id])
                #expect(other.cache.local.count > 0)

                // The log is lost (its node's data gone) and the tweet's tombstone is written without an entry.
                _ = try await world.redis.pipeline(DeletionLog.keys.map { RedisCommand("DEL", key: $0) })
                try await world.service.cache.store([], tombstones: [tweet.id])
                #expect(
                    try await Self.home(other, of: reader).isEmpty,
                    "the instance found its position gone, forgot what it held, and met the tombstone in Redis")
                #expect(other.cache.local.count == 0)
            }
        }
    }
}
