import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// Tweets of 8 KiB (280 characters, each with combining marks) page, hydrate and rebuild within the Wire frame limit:
    /// answers are cut to the tweet-list budget and continue by cursor.
    @Suite("Heavy tweets")
    struct HeavyTweetsTests {
        /// 280 grapheme clusters of 27 bytes each: 7,560 bytes, within both of the API's limits.
        static let heavyText = String(repeating: "e" + String(repeating: "\u{301}", count: 13), count: 280)

        private static func readAll(_ read: (Int64?) async throws -> TweetPage) async throws -> (
            ids: [Int64], largestPage: Int
        ) {
            var ids: [Int64] = []
            var largest = 0
            var maxID: Int64?
            repeat {
                let page = try await read(maxID)
                largest = max(largest, page.payload().readableBytes)
                ids += page.tweets.map(\.id)
                maxID = page.nextMaxID
            } while maxID != nil
            return (ids, largest)
        }

        @Test func pagesOfHeavyTweetsStayWithinTheBudgetAndPageThroughEverything() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let reader = try await world.makeUser()
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                var created: [Int64] = []
                for _ in 0..<150 {
                    created.append(try await world.tweet(author, Self.heavyText).id)
                }
                try await world.settle()
                let expected = Array(created.reversed())

                let home = try await Self.readAll { maxID in
                    try await world.timelines.call(
                        ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 200, maxID: maxID))
                }
                #expect(home.ids == expected && home.largestPage <= TweetListBudget.maxBytes + 64)
                let profile = try await Self.readAll { maxID in
                    try await world.tweets.call(
                        ListUserTweets.self, TimelineQuery(userID: author.id, limit: 200, maxID: maxID))
                }
                #expect(profile.ids == expected && profile.largestPage <= TweetListBudget.maxBytes + 64)

                // A home timeline Redis lost is rebuilt from the store in several answers, and the cache refilled in
                // several `get_tweets` calls.
                _ = try await world.redis.pipeline(
                    [
                        RedisCommand("DEL", key: TimelineKeys.home(reader.id)),
                        RedisCommand("DEL", key: TimelineKeys.homeBuilt(reader.id)),
                    ]
                        + created.map { RedisCommand("DEL", key: TimelineKeys.tweet($0)) }
                )
                let rebuilt = try await Self.readAll { maxID in
                    try await world.timelines.call(
                        ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 200, maxID: maxID))
                }
                #expect(rebuilt.ids == expected)
            }
        }
    }
}
