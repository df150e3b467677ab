import Foundation
import RedisCluster
import Testing
import Wire
import WireTestSupport

@testable import TimelineService

extension RedisLiveTests {
    /// A create or a chunk of a fan-out whose writes fail part way still removes what it wrote of a tweet that was
    /// deleted meanwhile: its retry stops at the tombstone, so nothing else would. The delete lands while the store is
    /// asked for the followers (a stand-in TweetService writes the tombstone before it answers), after the writer's
    /// own tombstone check, and one follower's home holds a string, so that the homes' script fails on its master
    /// while the other masters write.
    @Suite("Failed writes still undo a deleted tweet")
    struct FailedWritesUndoTests {
        @Test func aCreateWhoseHomesFailedRemovesWhatItWroteOfATweetDeletedMeanwhile() async throws {
            try await LiveRedis.withClusterClient { redis in
                let (followers, wrong) = try await homes(count: 300, redis: redis)
                let tweet = freshTweet()
                try await withStandInTweetService(
                    redis: redis,
                    listFollowers: { cache in
                        // The create caches the tweet beside this call; the tombstone must come after that.
                        try await eventually("the created tweet is cached") {
                            try await redis.send(RedisCommand("GET", key: TimelineKeys.tweet(tweet.id))).bytes?
                                .isEmpty == false
                        }
                        try await cache.store([], tombstones: [tweet.id])
                        return IDList(ids: followers)
                    }
                ) { service in
                    await expectWrongTypeFailure {
                        try await service.processor.create([
                            FanOutProcessor.CreatedTweet(tweet: tweet, authorFollowers: Int64(followers.count))
                        ])
                    }
                }
                let keys =
                    followers.filter { $0 != wrong }.map(TimelineKeys.home) + [
                        TimelineKeys.profile(tweet.userID), TimelineKeys.publicTimeline,
                    ]
                #expect(try await keysHolding(tweet.id, among: keys, redis: redis) == [])
                try await cleanUp(followers, tweet: tweet.id, redis: redis)
            }
        }

        @Test func aChunkWhosePageFailedRemovesWhatItWroteOfATweetDeletedMeanwhile() async throws {
            try await LiveRedis.withClusterClient { redis in
                let (followers, wrong) = try await homes(count: 300, redis: redis)
                let tweet = freshTweet()
                var configuration = TimelineConfiguration(fanOutChunkSize: 100, fanOutReadPages: 3)
                configuration.pagesAtOnce = 3
                try await withStandInTweetService(
                    redis: redis, configuration: configuration,
                    listFollowers: { cache in
                        try await cache.store([], tombstones: [tweet.id])
                        return IDList(ids: followers)
                    }
                ) { service in
                    await expectWrongTypeFailure {
                        try await service.processor.process(
                            FanOutJob(
                                .followerChunk(tweetID: tweet.id, authorID: tweet.userID, cursor: nil, remove: false)))
                    }
                }
                let others = followers.filter { $0 != wrong }.map(TimelineKeys.home)
                #expect(try await keysHolding(tweet.id, among: others, redis: redis) == [])
                try await cleanUp(followers, tweet: tweet.id, redis: redis)
            }
        }

        /// Runs `body`, which must fail on the home that holds a string (and not on anything before its writes).
        private func expectWrongTypeFailure(_ body: () async throws -> Void) async {
            do {
                try await body()
                Issue.record("the writes succeeded despite a home of the wrong type")
            } catch {
                #expect("\(error)".contains("WRONGTYPE"), "failed on the wrong-type home, not before: \(error)")
            }
        }

        /// `count` followers with built homes, one of which (returned beside them) holds a string instead of a list.
        private func homes(count: Int, redis: RedisClient) async throws -> (followers: [Int64], wrong: Int64) {
            let first = Int64.random(in: 1...1_000_000_000_000)
            let followers = (0..<Int64(count)).map { first + $0 }
            try await markHomesBuilt(followers, redis: redis)
            let wrong = followers[count / 2]
            _ = try await redis.send(RedisCommand("SET", key: TimelineKeys.home(wrong), "not a list"))
            return (followers, wrong)
        }

        private func freshTweet() -> TweetRecord {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return TweetRecord(
                id: TweeterID.make(unixMillis: now, shard: 1, sequence: .random(in: 0..<1024)),
                userID: .random(in: 1...1_000_000_000_000), username: "undone", text: "deleted meanwhile",
                createdAtMillis: now, inReplyToID: nil)
        }

        private func keysHolding(_ tweetID: Int64, among keys: [String], redis: RedisClient) async throws -> [String] {
            let replies = try await redis.pipeline(keys.map { TimelineKeys.holding(tweetID, in: $0) })
            return zip(keys, replies).filter { !$0.1.isNull }.map(\.0)
        }

        private func cleanUp(_ followers: [Int64], tweet: Int64, redis: RedisClient) async throws {
            _ = try await redis.pipeline(
                followers.flatMap {
                    [
                        RedisCommand("DEL", key: TimelineKeys.home($0)),
                        RedisCommand("DEL", key: TimelineKeys.homeBuilt($0)),
                    ]
                } + [RedisCommand("DEL", key: TimelineKeys.tweet(tweet))])
        }
    }
}
