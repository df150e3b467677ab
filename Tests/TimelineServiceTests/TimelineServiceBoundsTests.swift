import Testing
import TweetService
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

/// A live TimelineService (with its TweetService) and a user in it, for the requests of ``TimelineServiceBoundsTests``.
struct TimelineBoundsContext: Sendable {
    let world: TimelineWorld
    let user: UserRecord
}

extension RedisLiveTests {
    /// Every bound of `docs/wire.md`'s "Request bounds" that the TimelineService serves: the request at the bound gets
    /// past the router, and the request one past it is refused with the documented reason.
    @Suite("TimelineService request bounds")
    struct TimelineServiceBoundsTests {
        typealias Case = RequestBoundCase<TimelineBoundsContext>

        static let cases: [Case] = [
            Case("deliver_events", "events", atBound: nil, pastBound: "invalid_argument/too_many_events") {
                context, past in
                // Unfollows of nobody: each becomes a job that only drops a cache key.
                let events = (0..<Int64(DeliverEvents.maxEvents + (past ? 1 : 0))).map {
                    TimelineEvent(
                        id: $0, shard: 0,
                        change: .unfollowed(FollowEdge(followerID: -1 - $0, followeeID: context.user.id)))
                }
                _ = try await context.world.timelines.call(DeliverEvents.self, TimelineEventBatch(events: events))
            },
            Case("deliver_events", "events[].tweet.text", atBound: nil, pastBound: "invalid_argument/too_long") {
                context, past in
                let text = String(repeating: "a", count: TweetRecord.maxTextBytes + (past ? 1 : 0))
                try await deliverCreatedAndDeleted(context, username: context.user.username, text: text)
            },
            Case("deliver_events", "events[].tweet.username", atBound: nil, pastBound: "invalid_argument/too_long") {
                context, past in
                let username = String(repeating: "a", count: TweetRecord.maxUsernameBytes + (past ? 1 : 0))
                try await deliverCreatedAndDeleted(context, username: username, text: "hi")
            },
            Case("read_public_timeline", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                context, past in
                _ = try await context.world.timelines.call(
                    ReadPublicTimeline.self, TimelineQuery(limit: pageLimit(past)))
            },
            Case("read_home_timeline", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                context, past in
                let query = TimelineQuery(userID: context.user.id, limit: pageLimit(past))
                _ = try await context.world.timelines.call(ReadHomeTimeline.self, query)
            },
        ]

        @Test(arguments: cases)
        func theBoundIsEnforced(_ bound: Case) async throws {
            try await TimelineWorld.with { world in
                let context = TimelineBoundsContext(world: world, user: try await world.makeUser())
                let outcomes = await bound.outcomes(context)
                #expect(outcomes.atBound == bound.atBound, "at the bound")
                #expect(outcomes.pastBound == bound.pastBound, "one past the bound")
                try await world.settle()  // works off the jobs the deliveries queued
            }
        }

        @Test func everyDocumentedBoundOfTheTimelineServiceHasACase() throws {
            let documented = try RequestBoundsTable.documented().boundedFields(ofMethodsIn: 200..<300)
            #expect(Set(Self.cases.map(\.description)) == documented)
        }

        /// A rebuild for someone who follows more authors than one `list_recent_tweets` takes asks in chunks, and merges
        /// them: the tweets of the first and of the last author followed both come back.
        @Test func aHomeRebuildForMoreAuthorsThanOneCallTakesAsksInChunks() async throws {
            try await TimelineWorld.with { world in
                let reader = try await world.makeUser()
                var followees: [UserRecord] = []
                for _ in 0...ListRecentTweets.maxAuthorIDs {
                    let followee = try await world.makeUser()
                    _ = try await world.tweets.call(
                        Follow.self, FollowEdge(followerID: reader.id, followeeID: followee.id))
                    followees.append(followee)
                }
                let first = try await world.tweet(followees[0], "from the first followee")
                let last = try await world.tweet(followees[followees.count - 1], "from the last followee")
                try await world.settle()
                _ = try await world.redis.pipeline([
                    RedisCommand("DEL", key: TimelineKeys.home(reader.id)),
                    RedisCommand("DEL", key: TimelineKeys.homeBuilt(reader.id)),
                ])

                let home = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 20))
                #expect(home.tweets.map(\.id) == [last.id, first.id])
            }
        }
    }
}

/// Delivers the creation of a tweet by `context.user` with these fields, and its deletion, in one batch: the
/// tombstone is written on delivery, so the jobs leave no tweet behind in any timeline.
private func deliverCreatedAndDeleted(_ context: TimelineBoundsContext, username: String, text: String) async throws {
    let tweetID = TweeterID.make(unixMillis: TweeterID.epochMillis + 1, shard: 1, sequence: .random(in: 0..<1024))
    let tweet = TweetRecord(
        id: tweetID, userID: context.user.id, username: username, text: text, createdAtMillis: 0, inReplyToID: nil)
    let events = [
        TimelineEvent(id: 1, shard: 1, change: .tweetCreated(tweet, authorFollowers: 0)),
        TimelineEvent(id: 2, shard: 1, change: .tweetDeleted(tweetID: tweetID, authorID: context.user.id)),
    ]
    _ = try await context.world.timelines.call(DeliverEvents.self, TimelineEventBatch(events: events))
}

/// The top of ``WireRequestBounds/pageLimit``, or one more when `past`.
private func pageLimit(_ past: Bool) -> UInt32 {
    WireRequestBounds.pageLimit.upperBound + (past ? 1 : 0)
}
