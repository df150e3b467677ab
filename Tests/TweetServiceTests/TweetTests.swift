import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    @Suite("Tweets")
    struct TweetTests {
        @Test func createGetDeleteByOwnerOnly() async throws {
            try await withTweetService { client in
                let users = try await makeUsers(2, client: client)
                let tweet = try await client.call(CreateTweet.self, NewTweet(authorID: users[0].id, text: "hello"))
                #expect(tweet.username == users[0].username && tweet.text == "hello" && tweet.inReplyToID == nil)
                #expect(try await client.call(GetTweets.self, IDList(ids: [tweet.id])).tweets == [tweet])

                let reply = try await client.call(
                    CreateTweet.self, NewTweet(authorID: users[1].id, text: "hi back", inReplyToID: tweet.id))
                #expect(reply.inReplyToID == tweet.id)

                #expect(
                    await wireOutcome {
                        try await client.call(
                            DeleteTweet.self, TweetDeletion(tweetID: tweet.id, requesterID: users[1].id))
                    } == "permission_denied/not_owner")
                _ = try await client.call(DeleteTweet.self, TweetDeletion(tweetID: tweet.id, requesterID: users[0].id))
                #expect(try await client.call(GetTweets.self, IDList(ids: [tweet.id])).tweets.isEmpty)
                #expect(
                    await wireOutcome {
                        try await client.call(
                            DeleteTweet.self, TweetDeletion(tweetID: tweet.id, requesterID: users[0].id))
                    } == "not_found/unknown_tweet")
                #expect(
                    await wireOutcome {
                        try await client.call(
                            CreateTweet.self, NewTweet(authorID: users[1].id, text: "late", inReplyToID: tweet.id))
                    } == "invalid_argument/invalid_in_reply_to_id")

                let counts = try await client.call(GetUsers.self, IDList(ids: users.map(\.id))).users.map(\.tweetsCount)
                #expect(counts == [0, 1])
            }
        }

        @Test(arguments: [
            (String(repeating: "a", count: 280), true),
            (String(repeating: "a", count: 281), false),
            (String(repeating: "👩‍👩‍👧‍👦", count: 280), true),
            (String(repeating: "e\u{301}", count: 281), false),
            (" ", true),
            ("", false),
        ])
        func textLengthCountsGraphemeClusters(text: String, valid: Bool) async throws {
            try await withTweetService { client in
                let user = try await makeUsers(1, client: client)[0]
                let outcome = await wireOutcome {
                    try await client.call(CreateTweet.self, NewTweet(authorID: user.id, text: text))
                }
                #expect(outcome == (valid ? nil : "invalid_argument/invalid_text"))
                if valid {
                    let stored = try await client.call(ListUserTweets.self, TimelineQuery(userID: user.id, limit: 1))
                    #expect(stored.tweets.first?.text == text, "text is stored exactly, whitespace included")
                }
            }
        }

        @Test func batchGetMakesOneTripPerServer() async throws {
            try await withTweetService { client in
                let database = try await TestStore.migrated()
                let authors = try await makeUsers(10, client: client)
                var ids: [Int64] = []
                for index in 0..<99 {  // with one unknown id: get_tweets takes at most 100
                    ids.append(
                        try await client.call(
                            CreateTweet.self, NewTweet(authorID: authors[index % 10].id, text: "t\(index)")
                        ).id)
                }
                let servers = Set(ids.map { database.shardMap.server(ofShard: TweeterID.shard(of: $0)) })
                let before = database.tripCount
                let found = try await TweetStore(database: database).tweets(ids.shuffled() + [ids[0] + 1])
                #expect(database.tripCount - before == servers.count)
                #expect(Set(found.map(\.id)) == Set(ids))
                let tooMany = await wireOutcome {
                    try await client.call(GetTweets.self, IDList(ids: ids + [ids[0] + 1, ids[0] + 2]))
                }
                #expect(
                    tooMany == "invalid_argument/too_many_ids",
                    "an answer of more than 100 tweets could pass the frame limit")
            }
        }

        @Test func profilePagingWithMaxAndSinceIDs() async throws {
            try await withTweetService { client in
                let user = try await makeUsers(1, client: client)[0]
                var ids: [Int64] = []
                for index in 0..<25 {
                    ids.append(
                        try await client.call(CreateTweet.self, NewTweet(authorID: user.id, text: "n\(index)")).id)
                }
                #expect(ids == ids.sorted(), "ids grow with creation time")
                var seen: [Int64] = []
                var maxID: Int64?
                while true {
                    let page = try await client.call(
                        ListUserTweets.self, TimelineQuery(userID: user.id, limit: 10, maxID: maxID)
                    ).tweets
                    guard let last = page.last else { break }
                    seen += page.map(\.id)
                    maxID = last.id
                }
                #expect(seen == ids.reversed())
                let newest = try await client.call(
                    ListUserTweets.self, TimelineQuery(userID: user.id, limit: 3, sinceID: ids[10]))
                #expect(newest.tweets.map(\.id) == [ids[24], ids[23], ids[22]])
                #expect(newest.nextMaxID == ids[22], "older tweets remain inside the window")
                let window = try await client.call(
                    ListUserTweets.self, TimelineQuery(userID: user.id, limit: 50, maxID: ids[5], sinceID: ids[1]))
                #expect(window.tweets.map(\.id) == [ids[4], ids[3], ids[2]])
                #expect(window.nextMaxID == nil, "nothing older inside the window")
            }
        }

        @Test func recentTweetsOfSeveralAuthorsMergeNewestFirst() async throws {
            try await withTweetService { client in
                let authors = try await makeUsers(3, client: client)
                var ids: [Int64] = []
                for index in 0..<9 {
                    ids.append(
                        try await client.call(
                            CreateTweet.self, NewTweet(authorID: authors[index % 3].id, text: "r\(index)")
                        ).id)
                }
                let merged = try await client.call(
                    ListRecentTweets.self, RecentTweetsQuery(authorIDs: authors.map(\.id), limit: 5)
                ).tweets
                #expect(merged.map(\.id) == Array(ids.reversed().prefix(5)))
            }
        }
    }
}
