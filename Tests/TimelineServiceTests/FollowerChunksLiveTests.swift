import Foundation
import RedisCluster
import Testing
import TweetService
import Wire

@testable import TimelineService

extension RedisLiveTests {
    /// A fan-out reads an author's followers a chunk at a time, each chunk job queuing the next before it writes; the
    /// range jobs that chunk jobs queued before still cover their ranges.
    @Suite("Fan-out chunks read one after another")
    struct FollowerChunksLiveTests {
        @Test func eachChunkQueuesTheNextAndFollowsAddedBelowItsCursorStillGetTheTweet() async throws {
            var configuration = TimelineConfiguration(fanOutChunkSize: 1_000, fanOutReadPages: 2)
            configuration.pagesAtOnce = 2
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                // 3,000 followers on even edges 2…6,000: the first chunk reads the 2,000 newest, down to edge 2,002.
                let followers = try await addSyntheticFollowers(
                    to: author, edges: (1...3_000).map { 2 * $0 }, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                let tweetID = TweeterID.make(
                    unixMillis: Int64(Date().timeIntervalSince1970 * 1000), shard: 1, sequence: .random(in: 0..<1024))
                try await world.service.processor.process(
                    FanOutJob(.followerChunk(tweetID: tweetID, authorID: author.id, cursor: nil, remove: false)))
                try await expectEveryHome(of: Array(followers.suffix(2_000)), holds: tweetID, redis: world.redis)
                #expect(try await homesHolding(tweetID, of: Array(followers.prefix(1_000)), redis: world.redis) == 0)
                // 500 follows land below the next chunk's cursor (odd edges 3…1,001) before its job runs.
                let late = try await addSyntheticFollowers(
                    to: author, edges: (1...500).map { 2 * $0 + 1 }, database: world.database)
                try await markHomesBuilt(late, redis: world.redis)
                try await world.settle()
                try await expectEveryHome(of: followers + late, holds: tweetID, redis: world.redis)
            }
        }

        @Test func aQueuedRangeJobWritesItsRangeAndGoesOnPastAPage() async throws {
            try await TimelineWorld.with(TimelineConfiguration(fanOutChunkSize: 1_000)) { world in
                let author = try await world.makeUser()
                let followers = try await addSyntheticFollowers(to: author, count: 3_000, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                let tweetID = TweeterID.make(
                    unixMillis: Int64(Date().timeIntervalSince1970 * 1000), shard: 1, sequence: .random(in: 0..<1024))
                // The range below edge 2,501 down to 1,200 holds more than the job's page of 1,000 (edges 2,500…1,501):
                // the job queues the rest, whose page (1,500…501) passes the range's end, so nothing follows it.
                try await world.service.processor.process(
                    FanOutJob(
                        .followerRange(
                            tweetID: tweetID, authorID: author.id, cursor: 2_501, until: 1_200, remove: false)))
                try await world.settle()
                try await expectEveryHome(of: Array(followers[500..<2_500]), holds: tweetID, redis: world.redis)
                let outside = Array(followers[..<500]) + Array(followers[2_500...])
                #expect(try await homesHolding(tweetID, of: outside, redis: world.redis) == 0)
            }
        }

        private func homesHolding(_ tweetID: Int64, of followers: [Int64], redis: RedisClient) async throws -> Int {
            let replies = try await redis.pipeline(
                followers.map { TimelineKeys.holding(tweetID, in: TimelineKeys.home($0)) })
            return replies.filter { !$0.isNull }.count
        }
    }
}
