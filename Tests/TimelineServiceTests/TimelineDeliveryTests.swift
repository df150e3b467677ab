import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// Fan-out's writes to home timelines and profiles (``TimelineDelivery``): one script per master, built homes only,
    /// every profile, trims with slack, and owners a master no longer serves sent where they belong.
    @Suite("Timeline delivery")
    struct TimelineDeliveries {
        @Test func onlyBuiltHomesAreWrittenAndAnIdleFollowersFirstReadRebuildsWithTheTweet() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let active = try await world.makeUser()
                let idle = try await world.makeUser()
                try await world.follow(author, by: [active, idle])
                try await world.settle()
                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: active.id, limit: 5))
                let tweet = try await world.tweet(author, "to the active follower only")
                try await world.settle()

                let delivered = try await world.redis.send(
                    TimelineKeys.holding(tweet.id, in: TimelineKeys.home(active.id)))
                #expect(!delivered.isNull, "the active follower's home timeline holds the tweet")
                let idleHome = try await world.redis.send(RedisCommand("EXISTS", key: TimelineKeys.home(idle.id)))
                #expect(idleHome.integer == 0, "nothing was written for the idle follower")

                let page = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: idle.id, limit: 5))
                #expect(page.tweets.map(\.id) == [tweet.id], "the first read rebuilds the timeline with the tweet")
                let marker = try await world.redis.send(RedisCommand("GET", key: TimelineKeys.homeBuilt(idle.id)))
                #expect(marker.string == TimelineKeys.homeIsBuilt)
            }
        }

        @Test func aHomeBeingRebuiltIsWrittenAndStillRebuiltOnItsNextRead() async throws {
            try await TimelineWorld.with { world in
                let author = try await world.makeUser()
                let reader = try await world.makeUser()
                _ = try await world.tweets.call(Follow.self, FollowEdge(followerID: reader.id, followeeID: author.id))
                try await world.settle()
                // As a rebuild does before it reads the store: from here on, fan-out must reach this timeline.
                _ = try await world.redis.send(
                    RedisCommand("SET", key: TimelineKeys.homeBuilt(reader.id), TimelineKeys.homeIsBuilding))
                let tweet = try await world.tweet(author, "during the rebuild")
                try await world.settle()
                let delivered = try await world.redis.send(
                    TimelineKeys.holding(tweet.id, in: TimelineKeys.home(reader.id)))
                #expect(!delivered.isNull, "a timeline under rebuild receives the tweet")

                _ = try await world.timelines.call(ReadHomeTimeline.self, TimelineQuery(userID: reader.id, limit: 5))
                let marker = try await world.redis.send(RedisCommand("GET", key: TimelineKeys.homeBuilt(reader.id)))
                #expect(marker.string == TimelineKeys.homeIsBuilt, "a read of a timeline under rebuild rebuilds it")
            }
        }

        @Test func aHomeIsTrimmedBackToCapacityOnlyOnceItIsSlackOverIt() async throws {
            var configuration = TimelineConfiguration()
            configuration.homeCapacity = 5
            configuration.homeTrimSlack = 3
            try await LiveRedis.withClusterClient { redis in
                let user = Int64.random(in: 1...1_000_000_000_000)
                try await markHomesBuilt([user], redis: redis)
                let delivery = TimelineDelivery(redis: redis, configuration: configuration)
                let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 5_000_000, shard: 1, sequence: 0)
                let ids = (1...9).map { base + Int64($0) }
                for id in ids.prefix(8) {
                    try await delivery.add(id, to: [user])
                }
                let full = try await redis.send(RedisCommand("LLEN", key: TimelineKeys.home(user)))
                #expect(full.integer == 8, "capacity 5 plus slack 3: not trimmed yet")
                try await delivery.add(ids[8], to: [user])
                let kept = try await redis.send(
                    TimelineCommands.newestFirst(TimelineKeys.home(user), maxID: nil, sinceID: nil, limit: -1))
                let keptIDs = (kept.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                #expect(keptIDs == Array(ids.reversed().prefix(5)), "trimmed back to the newest 5")
                _ = try await redis.pipeline([
                    RedisCommand("DEL", key: TimelineKeys.home(user)),
                    RedisCommand("DEL", key: TimelineKeys.homeBuilt(user)),
                ])
            }
        }

        /// The script reads a home's first entry before its marker: a home whose list exists is written without a
        /// marker lookup, one with neither list nor marker is left alone, and a key of the wrong type fails the call
        /// (it is not taken for a key the master does not serve, which would be retried elsewhere).
        @Test func aHomeIsWrittenByItsListOrItsMarkerAndAWrongTypeFailsTheCall() async throws {
            try await LiveRedis.withClusterClient { redis in
                let listed = Int64.random(in: 1...1_000_000_000_000)
                let unbuilt = listed + 1
                let wrong = listed + 2
                let older = TweeterID.make(unixMillis: TweeterID.epochMillis + 4_000_000, shard: 1, sequence: 0)
                let tweet = older + 1
                _ = try await redis.pipeline([
                    RedisCommand("RPUSH", key: TimelineKeys.home(listed), TimelineKeys.member(older)),
                    RedisCommand("SET", key: TimelineKeys.home(wrong), "not a list"),
                ])
                let delivery = TimelineDelivery(redis: redis, configuration: TimelineConfiguration())
                try await delivery.add(tweet, to: [listed, unbuilt])
                let listedIDs = try await redis.send(
                    TimelineCommands.newestFirst(TimelineKeys.home(listed), maxID: nil, sinceID: nil, limit: -1))
                #expect(
                    (listedIDs.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                        == [tweet, older], "the existing list got the tweet, newest first")
                let unbuiltHome = try await redis.send(RedisCommand("EXISTS", key: TimelineKeys.home(unbuilt)))
                #expect(unbuiltHome.integer == 0, "no list and no marker: nothing written")
                do {
                    try await delivery.add(tweet, to: [wrong])
                    Issue.record("a home of the wrong type was accepted")
                } catch {
                    #expect("\(error)".contains("WRONGTYPE"), "the wrong type is the error: \(error)")
                }
                _ = try await redis.pipeline([listed, wrong].map { RedisCommand("DEL", key: TimelineKeys.home($0)) })
            }
        }

        /// Several tweets for overlapping followers in one delivery, some of them later than what the homes hold
        /// (a fan-out that ran behind a newer tweet's), and two followers sharing a run of two tweets: every home
        /// gets each of its tweets once, in order, and a second delivery of the same changes nothing.
        @Test func tweetsForOverlappingFollowersLandInOrderOnceEach() async throws {
            try await LiveRedis.withClusterClient { redis in
                let followers = (1...5).map { _ in Int64.random(in: 1...1_000_000_000_000) }
                try await markHomesBuilt(followers, redis: redis)
                let delivery = TimelineDelivery(redis: redis, configuration: TimelineConfiguration())
                let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 7_000_000, shard: 3, sequence: 0)
                let ids = (0..<40).map { base + Int64($0) * 2 }
                // Newer tweets first: the items below are all late for the first two homes.
                try await delivery.add(ids[39], to: followers)
                let items =
                    [
                        TimelineDelivery.Item(tweetID: ids[5], owners: [followers[0], followers[1]]),
                        TimelineDelivery.Item(tweetID: ids[30], owners: [followers[0]]),
                        TimelineDelivery.Item(tweetID: ids[12], owners: [followers[1], followers[2]]),
                        TimelineDelivery.Item(tweetID: ids[1], owners: [followers[3], followers[4]]),
                        TimelineDelivery.Item(tweetID: ids[2], owners: [followers[3], followers[4]]),
                    ] + (0..<20).map { TimelineDelivery.Item(tweetID: ids[$0 + 15], owners: [followers[2]]) }
                try await delivery.add(items)
                try await delivery.add(items)
                let expected = [
                    [ids[39], ids[30], ids[5]],
                    [ids[39], ids[12], ids[5]],
                    [ids[39]] + (15..<35).reversed().map { ids[$0] } + [ids[12]],
                    [ids[39], ids[2], ids[1]],
                    [ids[39], ids[2], ids[1]],
                ]
                for (follower, tweets) in zip(followers, expected) {
                    let home = try await redis.send(
                        TimelineCommands.newestFirst(TimelineKeys.home(follower), maxID: nil, sinceID: nil, limit: -1))
                    let homeIDs = (home.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                    #expect(homeIDs == tweets.sorted(by: >), "home of \(follower)")
                }
                _ = try await redis.pipeline(
                    followers.flatMap {
                        [
                            RedisCommand("DEL", key: TimelineKeys.home($0)),
                            RedisCommand("DEL", key: TimelineKeys.homeBuilt($0)),
                        ]
                    })
            }
        }

        @Test func followersOfSlotsANodeDoesNotServeAreSentToTheirOwners() async throws {
            try await LiveRedis.withClusterClient { redis in
                let base = Int64.random(in: 1...1_000_000_000) * 1_000
                let followers = (1...300).map { base + Int64($0) }
                try await markHomesBuilt(followers, redis: redis)
                // A stale slot map that puts every slot on one master: two thirds of the followers go to a node that
                // refuses them, and must be sent again to their owners.
                let masters = try await redis.masters()
                #expect(masters.count > 1)
                redis.setTopology(RedisClusterTopology(standalone: masters[0]))
                let tweetID = TweeterID.make(unixMillis: TweeterID.epochMillis + 6_000_000, shard: 2, sequence: 1)
                try await TimelineDelivery(redis: redis, configuration: TimelineConfiguration()).add(
                    tweetID, to: followers)
                try await expectEveryHome(of: followers, holds: tweetID, redis: redis)
                _ = try await redis.pipeline(
                    followers.flatMap {
                        [
                            RedisCommand("DEL", key: TimelineKeys.home($0)),
                            RedisCommand("DEL", key: TimelineKeys.homeBuilt($0)),
                        ]
                    })
            }
        }

        /// Profiles are written whether or not they exist (no marker is read or made, no expiry set), each tweet once
        /// and in order however often and late it comes, trimmed back to their capacity once they are the slack over
        /// it, and each at its owner every time the client's slot map sends it to a master that does not serve it.
        @Test func profilesAreWrittenWithoutMarkersInOrderOnceEachAndAtTheirOwners() async throws {
            var configuration = TimelineConfiguration()
            configuration.profileCapacity = 5
            configuration.homeTrimSlack = 3
            try await LiveRedis.withClusterClient { redis in
                let base = Int64.random(in: 1...1_000_000_000) * 1_000
                let authors = (1...300).map { base + Int64($0) }
                let masters = try await redis.masters()
                #expect(masters.count > 1)
                let delivery = TimelineDelivery(redis: redis, configuration: configuration, timelines: .profiles)
                // A stale slot map before every write: two thirds of the authors go to a master that refuses them.
                let add = { (items: [TimelineDelivery.Item]) in
                    redis.setTopology(RedisClusterTopology(standalone: masters[0]))
                    try await delivery.add(items)
                }
                let first = TweeterID.make(unixMillis: TweeterID.epochMillis + 8_000_000, shard: 4, sequence: 0)
                let ids = (0..<9).map { first + Int64($0) * 2 }
                let items = { (tweets: ArraySlice<Int64>) in
                    tweets.map { TimelineDelivery.Item(tweetID: $0, owners: authors) }
                }
                // Tweets 0 to 3, then 5 to 7, then 4 late and twice: every profile made, 8 entries, 5 + 3, untrimmed.
                try await add(items(ids[0...3]))
                try await add(items(ids[5...7]))
                try await add(items(ids[4...4]))
                try await add(items(ids[4...4]))
                var wrong: [Int64] = []
                for author in authors {
                    let profile = try await redis.send(
                        TimelineCommands.newestFirst(TimelineKeys.profile(author), maxID: nil, sinceID: nil, limit: -1))
                    let profileIDs = (profile.array ?? []).compactMap {
                        $0.bytes.flatMap(TimelineKeys.id(fromMember:))
                    }
                    if profileIDs != Array(ids[0...7].reversed()) {
                        wrong.append(author)
                    }
                }
                #expect(wrong.count == 0, "\(wrong.count) of \(authors.count) profiles hold other than tweets 7 to 0")
                let sample = Array(authors.prefix(10))
                let lifetimes = try await redis.pipeline(
                    sample.flatMap {
                        [
                            RedisCommand("PTTL", key: TimelineKeys.profile($0)),
                            RedisCommand("EXISTS", key: TimelineKeys.homeBuilt($0)),
                        ]
                    })
                #expect(
                    lifetimes.compactMap(\.integer) == sample.flatMap { _ in [-1, 0] as [Int64] },
                    "no expiry on a profile, no marker made")
                // A 9th entry is over 5 + 3: trimmed back to the newest 5.
                try await add([TimelineDelivery.Item(tweetID: ids[8], owners: [authors[0]])])
                let trimmed = try await redis.send(
                    TimelineCommands.newestFirst(TimelineKeys.profile(authors[0]), maxID: nil, sinceID: nil, limit: -1))
                let trimmedIDs = (trimmed.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                #expect(trimmedIDs == Array(ids[4...8].reversed()))
                _ = try await redis.pipeline(authors.map { RedisCommand("DEL", key: TimelineKeys.profile($0)) })
            }
        }
    }
}
