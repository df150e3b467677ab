import Testing
import TweetService
import Wire
import WireTestSupport

/// A live TweetService and a user in it, for the requests of ``TweetServiceBoundsTests``.
struct BoundsContext: Sendable {
    let client: AnyRoleClient
    let user: UserRecord
}

extension StoreTests {
    /// Every bound of `docs/wire.md`'s "Request bounds" that the TweetService serves: the request at the bound gets past
    /// the router (it succeeds, or fails a check that comes after), and the request one past it is refused with the
    /// documented reason, whatever role sends it.
    @Suite("TweetService request bounds")
    struct TweetServiceBoundsTests {
        typealias Case = RequestBoundCase<BoundsContext>

        /// Ids of nobody, enough for the longest list of ids a method takes and one more.
        static let ids = (0..<Int64(ListRecentTweets.maxAuthorIDs + 1)).map {
            TweeterID.make(unixMillis: TweeterID.epochMillis + $0, shard: 1, sequence: 1)
        }

        static let cases: [Case] = [
            Case(
                "create_user", "username", atBound: "invalid_argument/invalid_username",
                pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(
                    CreateUser.self,
                    Credentials(username: text(Credentials.maxUsernameBytes, $1), password: "password1"))
            },
            Case(
                "create_user", "password", atBound: "invalid_argument/invalid_password",
                pastBound: "invalid_argument/too_long"
            ) {
                let credentials = Credentials(
                    username: TestStore.uniqueName(), password: text(Credentials.maxPasswordBytes, $1))
                _ = try await $0.client.call(CreateUser.self, credentials)
            },
            Case(
                "authenticate", "username", atBound: "unauthenticated/invalid_credentials",
                pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(
                    Authenticate.self,
                    Credentials(username: text(Credentials.maxUsernameBytes, $1), password: "password1"))
            },
            Case(
                "authenticate", "password", atBound: "unauthenticated/invalid_credentials",
                pastBound: "invalid_argument/too_long"
            ) {
                let credentials = Credentials(
                    username: $0.user.username, password: text(Credentials.maxPasswordBytes, $1))
                _ = try await $0.client.call(Authenticate.self, credentials)
            },
            Case(
                "resolve_token", "token", atBound: "unauthenticated/invalid_token",
                pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(ResolveToken.self, Name(text(Name.maxBytes, $1)))
            },
            Case(
                "revoke_token", "token", atBound: "unauthenticated/invalid_token",
                pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(RevokeToken.self, Name(text(Name.maxBytes, $1)))
            },
            Case("get_users", "ids", atBound: nil, pastBound: "invalid_argument/too_many_ids") {
                _ = try await $0.client.call(
                    GetUsers.self, IDList(ids: Array(ids.prefix(GetUsers.maxIDs + ($1 ? 1 : 0)))))
            },
            Case(
                "get_user_by_username", "username", atBound: "not_found/unknown_user",
                pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(GetUserByUsername.self, Name(text(Name.maxBytes, $1)))
            },
            Case("list_followers", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                _ = try await $0.client.call(
                    ListFollowers.self, PageRequest(userID: $0.user.id, limit: limit(WireRequestBounds.pageLimit, $1)))
            },
            Case("list_following", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                _ = try await $0.client.call(
                    ListFollowing.self, PageRequest(userID: $0.user.id, limit: limit(WireRequestBounds.pageLimit, $1)))
            },
            Case("list_follower_ids", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                let request = PageRequest(userID: $0.user.id, limit: limit(ListFollowerIDs.limitRange, $1))
                _ = try await $0.client.call(ListFollowerIDs.self, request)
            },
            Case("list_following_ids", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                let request = PageRequest(userID: $0.user.id, limit: limit(ListFollowerIDs.limitRange, $1))
                _ = try await $0.client.call(ListFollowingIDs.self, request)
            },
            Case(
                "list_first_follower_pages", "user_ids", atBound: nil, pastBound: "invalid_argument/too_many_ids"
            ) { context, past in
                let users = [context.user.id] + ids.prefix(ListFirstFollowerPages.maxUserIDs - 1 + (past ? 1 : 0))
                _ = try await context.client.call(
                    ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: users, limit: 500))
            },
            Case("list_first_follower_pages", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                // The limit's bound is all the pages together: ten users take a tenth each.
                let users = [$0.user.id] + ids.prefix(9)
                let limit = UInt32(ListFirstFollowerPages.maxIDs / users.count) + ($1 ? 1 : 0)
                _ = try await $0.client.call(
                    ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: users, limit: limit))
            },
            Case(
                "create_tweet", "text", atBound: "invalid_argument/invalid_text", pastBound: "invalid_argument/too_long"
            ) {
                _ = try await $0.client.call(
                    CreateTweet.self, NewTweet(authorID: $0.user.id, text: text(TweetRecord.maxTextBytes, $1)))
            },
            Case("get_tweets", "ids", atBound: nil, pastBound: "invalid_argument/too_many_ids") {
                _ = try await $0.client.call(
                    GetTweets.self, IDList(ids: Array(ids.prefix(TweetListBudget.maxIDsPerCall + ($1 ? 1 : 0)))))
            },
            Case("list_user_tweets", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                _ = try await $0.client.call(
                    ListUserTweets.self,
                    TimelineQuery(userID: $0.user.id, limit: limit(WireRequestBounds.pageLimit, $1)))
            },
            Case("list_recent_tweets", "author_ids", atBound: nil, pastBound: "invalid_argument/too_many_ids") {
                context, past in
                let authors = [context.user.id] + ids.prefix(ListRecentTweets.maxAuthorIDs - 1 + (past ? 1 : 0))
                _ = try await context.client.call(
                    ListRecentTweets.self, RecentTweetsQuery(authorIDs: authors, limit: 20))
            },
            Case("list_recent_tweets", "limit", atBound: nil, pastBound: "invalid_argument/invalid_limit") {
                let query = RecentTweetsQuery(authorIDs: [$0.user.id], limit: limit(ListRecentTweets.limitRange, $1))
                _ = try await $0.client.call(ListRecentTweets.self, query)
            },
        ]

        @Test(arguments: cases)
        func theBoundIsEnforced(_ bound: Case) async throws {
            try await withTweetService { client in
                let context = BoundsContext(client: client, user: try await makeUsers(1, client: client)[0])
                let outcomes = await bound.outcomes(context)
                #expect(outcomes.atBound == bound.atBound, "at the bound")
                #expect(outcomes.pastBound == bound.pastBound, "one past the bound")
            }
        }

        /// A limit's other end: 0 is refused wherever a limit is.
        @Test func aLimitOfZeroIsRefused() async throws {
            try await withTweetService { client in
                let user = try await makeUsers(1, client: client)[0]
                let page = PageRequest(userID: user.id, limit: 0)
                let expected = "invalid_argument/invalid_limit"
                #expect(await wireOutcome { try await client.call(ListFollowerIDs.self, page) } == expected)
                #expect(await wireOutcome { try await client.call(ListFollowingIDs.self, page) } == expected)
                #expect(
                    await wireOutcome {
                        try await client.call(ListUserTweets.self, TimelineQuery(userID: user.id, limit: 0))
                    } == expected)
                #expect(
                    await wireOutcome {
                        try await client.call(ListRecentTweets.self, RecentTweetsQuery(authorIDs: [user.id], limit: 0))
                    } == expected)
            }
        }

        @Test func everyDocumentedBoundOfTheTweetServiceHasACase() throws {
            let documented = try RequestBoundsTable.documented().boundedFields(ofMethodsIn: 100..<200)
            #expect(Set(Self.cases.map(\.description)) == documented)
        }
    }
}

/// A string of `maxBytes` bytes, or one more when `past`.
private func text(_ maxBytes: Int, _ past: Bool) -> String {
    String(repeating: "a", count: maxBytes + (past ? 1 : 0))
}

/// The top of `range`, or one more when `past`.
private func limit(_ range: ClosedRange<UInt32>, _ past: Bool) -> UInt32 {
    range.upperBound + (past ? 1 : 0)
}
