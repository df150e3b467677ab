import Logging
import Wire

/// The TweetService's Wire methods, each a thin call into a store with storage errors mapped to Wire codes.
public struct TweetServiceHandlers: Sendable {
    /// The name this service gives in handshakes and health checks.
    public static let serviceName = "tweet-service"

    let accounts: AccountStore
    let users: UserDirectory
    let graph: FollowGraph
    let tweets: TweetStore
    /// Woken after each write that put events in a shard's outbox.
    let relay: OutboxRelay?

    public init(
        database: ShardedDatabase, hasher: PasswordHasher, relay: OutboxRelay?,
        backpressure: FanOutBackpressure? = nil, sessions: SessionPolicy = SessionPolicy()
    ) {
        self.accounts = AccountStore(database: database, hasher: hasher, sessions: sessions)
        self.users = UserDirectory(database: database)
        self.graph = FollowGraph(database: database)
        self.tweets = TweetStore(database: database, backpressure: backpressure)
        self.relay = relay
    }

    public func router() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: Self.serviceName)
        register(&router, CreateUser.self) { try await $0.accounts.createUser($1) }
        register(&router, Authenticate.self) { try await $0.accounts.authenticate($1) }
        register(&router, ResolveToken.self) { try await $0.accounts.resolve(token: $1.value) }
        register(&router, RevokeToken.self) { handlers, request in
            try await handlers.accounts.revoke(token: request.value)
            return WireEmpty()
        }
        register(&router, GetUsers.self) {
            UserPage(users: try await $0.users.users($1.ids, from: .caughtUpReplica), nextCursor: nil)
        }
        register(&router, GetUserByUsername.self) { try await $0.users.user(named: $1.value) }
        register(&router, Follow.self) { try await $0.changeFollow($1, following: true) }
        register(&router, Unfollow.self) { try await $0.changeFollow($1, following: false) }
        register(&router, ListFollowers.self) { try await $0.userPage($1, followers: true) }
        register(&router, ListFollowing.self) { try await $0.userPage($1, followers: false) }
        register(&router, ListFollowerIDs.self) { handlers, request in
            let page = try await handlers.graph.page(request, followers: true, withHomesOnly: true)
            return IDList(ids: page.ids, nextCursor: page.nextCursor)
        }
        register(&router, ListFollowingIDs.self) { handlers, request in
            let page = try await handlers.graph.page(request, followers: false)
            return IDList(ids: page.ids, nextCursor: page.nextCursor)
        }
        register(&router, ListFirstFollowerPages.self) { handlers, request in
            let pages = try await handlers.graph.firstFollowerPages(of: request.userIDs, limit: request.limit)
            return IDLists(lists: pages.map { IDList(ids: $0.ids, nextCursor: $0.nextCursor) })
        }
        register(&router, ExtendHomeLifetime.self) { handlers, request in
            try await handlers.graph.extendHomeLifetime(request)
            return WireEmpty()
        }
        register(&router, CreateTweet.self) { handlers, request in
            let tweet = try await handlers.tweets.create(request)
            handlers.relay?.notify(shard: TweeterID.shard(of: tweet.id))
            return tweet
        }
        register(&router, GetTweets.self) { TweetList(tweets: try await $0.tweets.tweets($1.ids)) }
        register(&router, DeleteTweet.self) { handlers, request in
            try await handlers.tweets.delete(request)
            // The delete's event carries the tombstone that hides the tweet in every timeline: deliver it before
            // answering, so that a 204 means gone everywhere (bounded by the pool's and the delivery's timeouts).
            await handlers.relay?.deliverNow(shard: TweeterID.shard(of: request.tweetID))
            return WireEmpty()
        }
        register(&router, ListUserTweets.self) { try await $0.tweets.byUser($1) }
        register(&router, ListRecentTweets.self) {
            TweetList(tweets: try await $0.tweets.recent(by: $1.authorIDs, limit: $1.limit, maxID: $1.maxID))
        }
        return router
    }

    private func changeFollow(_ edge: FollowEdge, following: Bool) async throws -> FollowState {
        let state = try await graph.set(edge, following: following)
        relay?.notify(shard: TweeterID.shard(of: edge.followerID))
        return state
    }

    private func userPage(_ request: PageRequest, followers: Bool) async throws -> UserPage {
        let page = try await graph.page(request, followers: followers)
        return UserPage(users: try await users.users(page.ids, from: .caughtUpReplica), nextCursor: page.nextCursor)
    }

    private func register<Method: WireMethod>(
        _ router: inout WireRouter,
        _ method: Method.Type,
        _ handler: @escaping @Sendable (TweetServiceHandlers, Method.Request) async throws -> Method.Response
    ) {
        router.register(method) { request, context in
            do {
                return try await handler(self, request)
            } catch let error as PostgresError {
                throw Self.wireError(for: error, logger: context.logger)
            }
        }
    }

    /// Storage failures as callers see them: `unavailable` and `resource_exhausted` say to retry elsewhere or later;
    /// anything else is `internal`, with the detail only in our log.
    static func wireError(for error: PostgresError, logger: Logger) -> WireError {
        switch error.code {
        case .unavailable:
            return WireError(.unavailable, reason: "database_unavailable", "a database shard is unavailable")
        case .overloaded:
            return WireError(.resourceExhausted, reason: "database_overloaded", "the database is overloaded")
        case .timedOut:
            logger.warning("database bound ran out", metadata: ["error": "\(error)"])
            return WireError(
                .unavailable, reason: "database_timeout", "a database shard did not answer in time; nothing was changed"
            )
        default:
            logger.error("database error", metadata: ["error": "\(error)"])
            return WireError(.internal, "internal error")
        }
    }
}
