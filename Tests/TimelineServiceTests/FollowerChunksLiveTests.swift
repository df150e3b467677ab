import Foundation
import RedisCluster
import Synchronization
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

        /// A worker whose read takes several chunk jobs runs them ``TimelineConfiguration/pagesAtOnce`` at a time, not
        /// one after another: the stand-in TweetService answers no chunk's read of followers until two are asked at
        /// once (or 10 s have passed, when run one after another). The shared queue is emptied first, so that the
        /// read takes these two jobs and nothing another test left.
        @Test func aWorkerRunsTheChunkJobsOfOneReadAtOnce() async throws {
            try await TimelineWorld.with { world in
                try await world.settle()
                let redis = world.redis
                var configuration = TimelineConfiguration()
                configuration.pagesAtOnce = 2
                let reads = ReadsInFlight()
                try await withStandInTweetService(
                    redis: redis, configuration: configuration,
                    listFollowers: { _ in
                        await reads.arriveAndWait(untilAtOnce: 2, atMost: .seconds(10))
                        return IDList(ids: [])
                    }
                ) { service in
                    try await service.queue.prepare()
                    // Two tweets: a chunk is queued once per tweet and cursor.
                    let first = TweeterID.make(
                        unixMillis: Int64(Date().timeIntervalSince1970 * 1000), shard: 1, sequence: 0)
                    _ = try await redis.pipeline(
                        [first, first + 1].map { tweetID in
                            FanOutQueue.addOnce(
                                FanOutJob(.followerChunk(tweetID: tweetID, authorID: 1, cursor: nil, remove: false)))
                        })
                    let workers = service.workers(consumer: "chunks-at-once", logger: LiveRedis.logger)
                    #expect(try await workers.runOnce(consumer: "chunks-at-once", count: 16) == 2, "one read took both")
                    #expect(reads.most == 2, "both chunks read their followers at once")
                }
            }
        }

        private func homesHolding(_ tweetID: Int64, of followers: [Int64], redis: RedisClient) async throws -> Int {
            let replies = try await redis.pipeline(
                followers.map { TimelineKeys.holding(tweetID, in: TimelineKeys.home($0)) })
            return replies.filter { !$0.isNull }.count
        }
    }
}

/// Counts the calls in a stand-in's handler at once, and holds each until enough are.
private final class ReadsInFlight: Sendable {
    private struct State {
        var now = 0
        var most = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// The most calls that were in the handler at once.
    var most: Int { state.withLock { $0.most } }

    /// Enters, waits until `count` calls are in at once (or `limit` has passed: then every waiting call goes on),
    /// and leaves.
    func arriveAndWait(untilAtOnce count: Int, atMost limit: Duration) async {
        let deadline = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }  // cancelled: released already
            self.releaseAll()
        }
        await withCheckedContinuation { continuation in
            let enough = state.withLock { state in
                state.now += 1
                state.most = max(state.most, state.now)
                state.waiting.append(continuation)
                return state.now >= count
            }
            if enough {
                releaseAll()
            }
        }
        deadline.cancel()
        state.withLock { $0.now -= 1 }
    }

    private func releaseAll() {
        let waiting = state.withLock { state in
            defer { state.waiting = [] }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }
}
