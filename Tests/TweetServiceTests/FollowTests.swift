import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    @Suite("Follow graph")
    struct FollowTests {
        @Test func followAndUnfollowAreIdempotentAndCountersMatchRows() async throws {
            try await withTweetService { client in
                let users = try await makeUsers(3, client: client)
                let (a, b, c) = (users[0], users[1], users[2])
                for _ in 0..<2 {
                    #expect(
                        try await client.call(Follow.self, FollowEdge(followerID: a.id, followeeID: b.id)).following)
                    #expect(
                        try await client.call(Follow.self, FollowEdge(followerID: c.id, followeeID: b.id)).following)
                }
                let fresh = try await client.call(GetUsers.self, IDList(ids: [a.id, b.id]))
                #expect(fresh.users[0].followingCount == 1)
                #expect(fresh.users[1].followersCount == 2)
                for _ in 0..<2 {
                    #expect(
                        try await !client.call(Unfollow.self, FollowEdge(followerID: a.id, followeeID: b.id)).following)
                }
                let after = try await client.call(GetUsers.self, IDList(ids: [a.id, b.id]))
                #expect(after.users[0].followingCount == 0 && after.users[1].followersCount == 1)
                #expect(try await graphIsConsistent(users, database: TestStore.migrated()))
            }
        }

        @Test func selfFollowAndUnknownUsersAreRefused() async throws {
            try await withTweetService { client in
                let user = try await makeUsers(1, client: client)[0]
                #expect(
                    await wireOutcome {
                        try await client.call(Follow.self, FollowEdge(followerID: user.id, followeeID: user.id))
                    } == "invalid_argument/self_follow")
                let unknown = TweeterID.make(unixMillis: TweeterID.epochMillis + 5, shard: 3, sequence: 3)
                #expect(
                    await wireOutcome {
                        try await client.call(Follow.self, FollowEdge(followerID: user.id, followeeID: unknown))
                    } == "not_found/unknown_user")
                #expect(
                    await wireOutcome {
                        try await client.call(Unfollow.self, FollowEdge(followerID: user.id, followeeID: unknown))
                    } == "not_found/unknown_user")
            }
        }

        @Test func followerPagesAreNewestFirstWithKeysetCursors() async throws {
            try await withTweetService { client in
                let star = try await makeUsers(1, client: client)[0]
                let fans = try await makeUsers(7, client: client)
                for fan in fans {
                    _ = try await client.call(Follow.self, FollowEdge(followerID: fan.id, followeeID: star.id))
                }
                var seen: [Int64] = []
                var cursor: Int64?
                repeat {
                    let page = try await client.call(
                        ListFollowers.self, PageRequest(userID: star.id, limit: 3, cursor: cursor))
                    seen += page.users.map(\.id)
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(seen == fans.reversed().map(\.id))

                let ids = try await client.call(ListFollowerIDs.self, PageRequest(userID: star.id, limit: 50_000))
                #expect(ids.ids == fans.reversed().map(\.id) && ids.nextCursor == nil)
                let following = try await client.call(ListFollowing.self, PageRequest(userID: fans[0].id, limit: 10))
                #expect(following.users.map(\.id) == [star.id] && following.nextCursor == nil)
                #expect(
                    await wireOutcome {
                        try await client.call(ListFollowers.self, PageRequest(userID: star.id, limit: 0))
                    }
                        == "invalid_argument/invalid_limit")
                #expect(
                    await wireOutcome {
                        try await client.call(ListFollowers.self, PageRequest(userID: star.id, limit: 201))
                    }
                        == "invalid_argument/invalid_limit")
            }
        }

        @Test func firstFollowerPagesOfManyUsersAreTheirOwnFirstPagesInTheOrderAsked() async throws {
            try await withTweetService { client in
                // Stars on many shards (and both servers), with 0 to 5 fans each; pages of 3, so some continue.
                let stars = try await makeUsers(6, client: client)
                let fans = try await makeUsers(5, client: client)
                for (index, star) in stars.enumerated() {
                    for fan in fans.prefix(index) {
                        _ = try await client.call(Follow.self, FollowEdge(followerID: fan.id, followeeID: star.id))
                    }
                }
                let asked = stars.map(\.id).reversed() + [stars[4].id]
                let together = try await client.call(
                    ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: Array(asked), limit: 3))
                var alone: [IDList] = []
                for star in asked {
                    alone.append(try await client.call(ListFollowerIDs.self, PageRequest(userID: star, limit: 3)))
                }
                #expect(together.lists == alone)
                #expect(together.lists.map(\.ids.count) == [3, 3, 3, 2, 1, 0, 3])
                #expect(together.lists.map { $0.nextCursor != nil } == [true, true, false, false, false, false, true])

                let unknown = TweeterID.make(unixMillis: TweeterID.epochMillis + 5, shard: 4_000, sequence: 3)
                #expect(
                    await wireOutcome {
                        try await client.call(
                            ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: [stars[0].id, unknown], limit: 3))
                    } == "not_found/unknown_user")
            }
        }

        @Test func crashBetweenShardsIsRepaired() async throws {
            try await withTweetService { client in
                let database = try await TestStore.migrated()
                var users = try await makeUsers(2, client: client)
                // Make sure the two users live on different servers, so the halves cannot share a transaction.
                while database.shardMap.server(ofShard: TweeterID.shard(of: users[0].id))
                    == database.shardMap.server(ofShard: TweeterID.shard(of: users[1].id))
                {
                    users[1] = try await makeUsers(1, client: client)[0]
                }
                let graph = FollowGraph(database: database)
                let edge = FollowEdge(followerID: users[0].id, followeeID: users[1].id)
                // The process "dies" after the follower's side commits and before the followee's side is written.
                try await graph.changeFollowerSide(edge, following: true, shard: TweeterID.shard(of: edge.followerID))
                #expect(try await !graphIsConsistent(users, database: database))

                let repairer = FollowRepairer(graph: graph, logger: TestStore.logger)
                #expect(try await repairer.repairOnce(minimumAge: .zero) >= 1)
                #expect(try await graphIsConsistent(users, database: database))
                #expect(try await repairer.repairOnce(minimumAge: .zero) == 0, "a repaired edge leaves no marker")

                // The same for an unfollow that died half way.
                try await graph.changeFollowerSide(edge, following: false, shard: TweeterID.shard(of: edge.followerID))
                #expect(try await !graphIsConsistent(users, database: database))
                try await repairer.repairOnce(minimumAge: .zero)
                #expect(try await graphIsConsistent(users, database: database))
                let fresh = try await client.call(GetUsers.self, IDList(ids: [users[1].id]))
                #expect(fresh.users[0].followersCount == 0)
            }
        }
    }
}
