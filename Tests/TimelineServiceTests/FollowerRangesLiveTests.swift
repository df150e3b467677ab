import Foundation
import Testing
import TweetService
import Wire

@testable import TimelineService

extension RedisLiveTests {
    /// A fan-out reads where its follower pages begin and queues them all at once (`FollowerRanges`); the ranges must
    /// still cover followers added inside them after their bounds were read.
    @Suite("Fan-out pages queued at once")
    struct FollowerRangesLiveTests {
        @Test func followsAddedInsideARangeAfterItsBoundsWereReadStillGetTheTweet() async throws {
            var configuration = TimelineConfiguration()
            configuration.fanOutChunkSize = 1_000
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                // 3,000 followers on even edges 2…6,000: pages end at edges 4,002, 2,002 and 2.
                let first = try await addSyntheticFollowers(
                    to: author, edges: (1...3_000).map { 2 * $0 }, database: world.database)
                try await markHomesBuilt(first, redis: world.redis)
                // A tweet id of its own, with no event: only the jobs this test runs write it.
                let tweetID = TweeterID.make(
                    unixMillis: Int64(Date().timeIntervalSince1970 * 1000), shard: 1, sequence: .random(in: 0..<1024))
                try await world.service.processor.process(
                    FanOutJob(.followerChunk(tweetID: tweetID, authorID: author.id, cursor: nil, remove: false)))
                // The other pages are queued now, with their bounds. 500 follows land inside the second page's range
                // (odd edges 2,003…3,001) before its job runs: that page now holds 1,500.
                let late = try await addSyntheticFollowers(
                    to: author, edges: (0..<500).map { 2_003 + 2 * $0 }, database: world.database)
                try await markHomesBuilt(late, redis: world.redis)
                try await world.settle()
                try await expectEveryHome(of: first + late, holds: tweetID, redis: world.redis)
            }
        }
    }
}
