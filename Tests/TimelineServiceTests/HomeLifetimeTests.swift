import Foundation
import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// The fan-out reads only the followers whose follows say their home timeline may exist (`home_until`), so every
    /// way a home is kept alive marks its owner's follows first (``ExtendHomeLifetime``); see `docs/timelines.md`,
    /// "Idle followers".
    @Suite("Home lifetime")
    struct HomeLifetimes {
        @Test func anIdleFollowerIsLeftOutOfTheFanOutAndItsFirstReadMarksItsFollows() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let active = try await world.makeUser()
                let idle = try await world.makeUser()
                try await world.follow(author, by: [active, idle])
                try await world.settle()
                // As for a user who has not read for longer than a home lives.
                try await world.setHomeUntil(follower: idle, followee: author, "now() - interval '1 day'")
                let pages = try await world.tweets.call(
                    ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: [author.id], limit: 10))
                #expect(pages.lists.map(\.ids) == [[active.id]], "first pages leave the idle follower out")
                let page = try await world.tweets.call(
                    ListFollowerIDs.self, PageRequest(userID: author.id, limit: 10))
                #expect(page.ids == [active.id], "follower pages leave the idle follower out")
                let listed = try await world.tweets.call(ListFollowers.self, PageRequest(userID: author.id, limit: 10))
                #expect(Set(listed.users.map(\.id)) == [active.id, idle.id], "the public follower list has both")

                let first = try await world.tweet(author, "while the follower was away")
                try await world.settle()
                let home = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: idle.id, limit: 5))
                #expect(home.tweets.map(\.id) == [first.id], "the first read rebuilds the timeline from the store")
                let markerExpiry = try await world.expiry(of: TimelineKeys.homeBuilt(idle.id))
                let marked = try await world.homeUntil(follower: idle, followee: author)
                #expect(marked >= markerExpiry, "the follow is marked at least as long as the home lives")
                #expect(try await world.expiry(of: TimelineKeys.home(idle.id)) == markerExpiry, "the home's too")

                let second = try await world.tweet(author, "now that the follower is back")
                try await world.settle()
                let delivered = try await world.redis.send(
                    TimelineKeys.holding(second.id, in: TimelineKeys.home(idle.id)))
                #expect(!delivered.isNull, "the fan-out reaches the rebuilt home")
            }
        }

        @Test func aNewFollowIsMarkedAheadByAsLongAsAnyHomeLives() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let follower = try await world.makeUser()
                let before = Date().unixMillis
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: follower.id, followeeID: author.id))
                let marked = try await world.homeUntil(follower: follower, followee: author)
                let ahead = ExtendHomeLifetime.newFollowLifetime.milliseconds
                #expect(marked >= before + ahead, "the column's default is the new follow's lifetime")
                #expect(marked <= Date().unixMillis + ahead)
            }
        }

        @Test func marksGoUpOnlyAndReachEveryFollowOfTheUserOnEveryShard() async throws {
            try await TimelineWorld.with { world in
                let reader = try await world.makeUser()
                let other = try await world.makeUser()
                var authors: [UserRecord] = []
                while Set(authors.compactMap { world.database.shardMap.shard(ofID: $0.id) }).count < 3 {
                    authors.append(try await world.makeUser())
                }
                for author in authors {
                    try await world.follow(author, by: [reader, other])
                }
                let before = try await world.homeUntil(follower: other, followee: authors[0])
                let later = Date().unixMillis + 20 * 86_400_000
                _ = try await world.tweets.call(
                    ExtendHomeLifetime.self, HomeLifetime(userID: reader.id, untilUnixMillis: later))
                let markedTo = later + FollowGraph.markAhead.milliseconds
                for author in authors {
                    #expect(try await world.homeUntil(follower: reader, followee: author) == markedTo, "a short mark")
                }
                #expect(try await world.homeUntil(follower: other, followee: authors[0]) == before, "others untouched")
                _ = try await world.tweets.call(
                    ExtendHomeLifetime.self, HomeLifetime(userID: reader.id, untilUnixMillis: later - 86_400_000))
                #expect(try await world.homeUntil(follower: reader, followee: authors[0]) == markedTo, "never lowered")
            }
        }

        @Test func aReadRenewsItsHomeOnceItsLifetimeIsADayOldAndMarksTheFollowsFirst() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let reader = try await world.makeUser()
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                _ = try await world.tweet(author, "something to read")
                try await world.settle()
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 5))
                let built = try await world.expiry(of: TimelineKeys.homeBuilt(reader.id))

                // A read within the first day leaves the lifetime alone.
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 5))
                #expect(try await world.expiry(of: TimelineKeys.homeBuilt(reader.id)) == built)

                // Two days later, as far as the keys and the marks can tell.
                let twoDays: Int64 = 2 * 86_400_000
                for key in [TimelineKeys.homeBuilt(reader.id), TimelineKeys.home(reader.id)] {
                    _ = try await world.redis.send(RedisCommand("PEXPIREAT", key: key, built - twoDays))
                }
                try await world.setHomeUntil(
                    follower: reader, followee: author, "to_timestamp(\(built - twoDays) / 1000.0)")
                let beforeRenewal = Date().unixMillis
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 5))
                let renewed = try await world.expiry(of: TimelineKeys.homeBuilt(reader.id))
                let lifetime = TimelineConfiguration().idleTimelineTTL.milliseconds
                #expect(renewed >= beforeRenewal + lifetime, "renewed to a full lifetime from the read")
                #expect(try await world.expiry(of: TimelineKeys.home(reader.id)) == renewed)
                #expect(try await world.homeUntil(follower: reader, followee: author) >= renewed, "marked first")
            }
        }

        @Test func aFollowLeftOverFromAnUnfinishedUnfollowTakesTheNewFollowsMarkWhenFollowedAgain() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let follower = try await world.makeUser()
                let edge = FollowEdge(followerID: follower.id, followeeID: author.id)
                _ = try await world.tweets.call(Follow.self, edge)
                let counted = try await world.tweets.call(GetUsers.self, IDList(ids: [author.id])).users[0]
                // An unfollow whose second half never reached the author's shard, while the follower was idle.
                let followerShard = try #require(world.database.shardMap.shard(ofID: follower.id))
                let ids = [String(follower.id), String(author.id)]
                try await world.database.withShard(followerShard) { connection, schema in
                    try connection.query(
                        "DELETE FROM \(schema).following WHERE follower_id = $1 AND followee_id = $2", ids)
                }
                try await world.setHomeUntil(follower: follower, followee: author, "now() - interval '1 day'")

                _ = try await world.tweets.call(Follow.self, edge)
                let marked = try await world.homeUntil(follower: follower, followee: author)
                #expect(marked >= Date().unixMillis + ExtendHomeLifetime.maxHomeLifetime.milliseconds)
                let page = try await world.tweets.call(ListFollowerIDs.self, PageRequest(userID: author.id, limit: 10))
                #expect(page.ids == [follower.id], "the fan-out reads the follower again")
                let recounted = try await world.tweets.call(GetUsers.self, IDList(ids: [author.id])).users[0]
                #expect(recounted.followersCount == counted.followersCount, "the row was there: no second count")
            }
        }

        @Test func aFollowsBackfillReachesOnlyABuiltHomeAndLeavesItsExpiryAlone() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let reader = try await world.makeUser()
                let stranger = try await world.makeUser()
                let tweet = try await world.tweet(author, "before the follow")
                try await world.settle()
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 5))
                let expiry = try await world.expiry(of: TimelineKeys.homeBuilt(reader.id))
                try await world.follow(author, by: [reader, stranger])
                try await world.settle()
                let backfilled = try await world.redis.send(
                    TimelineKeys.holding(tweet.id, in: TimelineKeys.home(reader.id)))
                #expect(!backfilled.isNull, "the built home got the followee's tweet")
                #expect(try await world.expiry(of: TimelineKeys.home(reader.id)) == expiry, "with the marker's expiry")
                let unbuilt = try await world.redis.send(RedisCommand("EXISTS", key: TimelineKeys.home(stranger.id)))
                #expect(unbuilt.integer == 0, "a home never read is not written")
            }
        }

        @Test func aHomeThatADeliveryCreatesLivesNoLongerThanItsMarker() async throws {
            try await LiveRedis.withClusterClient { redis in
                let user = Int64.random(in: 1...1_000_000_000_000)
                let other = user + 1
                _ = try await redis.pipeline([
                    RedisCommand("SET", key: TimelineKeys.homeBuilt(user), TimelineKeys.homeIsBuilt, "PX", 600_000),
                    RedisCommand("SET", key: TimelineKeys.homeBuilt(other), TimelineKeys.homeIsBuilt),
                ])
                let tweetID = TweeterID.make(unixMillis: TweeterID.epochMillis + 7_000_000, shard: 3, sequence: 1)
                try await TimelineDelivery(redis: redis, configuration: TimelineConfiguration()).add(
                    tweetID, to: [user, other])
                let expiries = try await redis.pipeline(
                    [user, other].flatMap {
                        [
                            RedisCommand("PEXPIRETIME", key: TimelineKeys.homeBuilt($0)),
                            RedisCommand("PEXPIRETIME", key: TimelineKeys.home($0)),
                        ]
                    })
                #expect(expiries[1].integer == expiries[0].integer, "the new home expires with its marker")
                #expect(expiries[3].integer == -1, "a marker without expiry gives none (and the home is kept)")
                _ = try await redis.pipeline(
                    [user, other].flatMap {
                        [
                            RedisCommand("DEL", key: TimelineKeys.home($0)),
                            RedisCommand("DEL", key: TimelineKeys.homeBuilt($0)),
                        ]
                    })
            }
        }
    }
}

extension TimelineWorld {
    /// Sets the `home_until` of one follow to an SQL expression.
    func setHomeUntil(follower: UserRecord, followee: UserRecord, _ expression: String) async throws {
        let shard = try #require(database.shardMap.shard(ofID: followee.id))
        let ids = [String(followee.id), String(follower.id)]
        try await database.withShard(shard) { connection, schema in
            try connection.query(
                "UPDATE \(schema).followers SET home_until = \(expression) WHERE followee_id = $1 AND follower_id = $2",
                ids)
        }
    }

    /// The `home_until` of one follow, in Unix milliseconds.
    func homeUntil(follower: UserRecord, followee: UserRecord) async throws -> Int64 {
        let shard = try #require(database.shardMap.shard(ofID: followee.id))
        let ids = [String(followee.id), String(follower.id)]
        return try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                SELECT (extract(epoch FROM home_until) * 1000)::bigint AS until FROM \(schema).followers
                WHERE followee_id = $1 AND follower_id = $2
                """,
                ids
            ).all.first?.int64("until") ?? -1
        }
    }

    /// A key's expiry in Unix milliseconds (negative: none, or no key).
    func expiry(of key: String) async throws -> Int64 {
        Int64(try await redis.send(RedisCommand("PEXPIRETIME", key: key)).integer ?? -3)
    }
}

extension Date {
    var unixMillis: Int64 { Int64(timeIntervalSince1970 * 1000) }
}
