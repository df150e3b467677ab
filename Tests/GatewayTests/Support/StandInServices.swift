import Synchronization
import Wire

/// An in-memory TweetService and TimelineService behind real Wire routers, with the real services' rules and error
/// reasons, so the Gateway's API logic can be tested without PostgreSQL or Redis. Timelines are computed on read
/// (no fan-out lag), which is all the Gateway can tell apart.
///
/// They do not page: every list is the newest `limit` entries, and the next cursor is whatever the test scripts
/// (``nextCursor``; none by default). The Gateway's part of paging (parameters in, cursor out) is checked against the
/// request each list call recorded (``lastTimelineQuery``, ``lastPageRequest``); paging itself, against the real
/// services (EndToEndTests).
final class StandInServices: Sendable {
    private struct Edge {
        var id: Int64
        var follower: Int64
        var followee: Int64
    }

    private struct State {
        var nextID: Int64 = 1_000
        var users: [Int64: UserRecord] = [:]
        var passwords: [Int64: String] = [:]
        var tokens: [String: Int64] = [:]
        var edges: [Edge] = []
        var tweets: [Int64: TweetRecord] = [:]

        mutating func allocateID() -> Int64 {
            nextID += 1
            return nextID
        }

        func user(_ id: Int64) throws(WireError) -> UserRecord {
            guard let user = users[id] else { throw WireError(.notFound, reason: "unknown_user", "no user \(id)") }
            return user
        }
    }

    private let state = Mutex(State())
    private let lastLists = Mutex<(timeline: TimelineQuery?, page: PageRequest?)>((nil, nil))
    private let scriptedCursor = Mutex<Int64?>(nil)
    /// `resolve_token` calls served, to check the Gateway's token cache.
    let resolveTokenCalls = Atomic<Int>(0)
    /// `read_home_timeline` calls served, to check the Gateway's home page cache.
    let homeReads = Atomic<Int>(0)

    /// The request of the last timeline read (`list_user_tweets`, `read_public_timeline`, `read_home_timeline`).
    var lastTimelineQuery: TimelineQuery? { lastLists.withLock { $0.timeline } }
    /// The request of the last `list_followers` or `list_following`.
    var lastPageRequest: PageRequest? { lastLists.withLock { $0.page } }
    /// The `next_max_id` / `next_cursor` that list calls answer with from now on.
    var nextCursor: Int64? {
        get { scriptedCursor.withLock { $0 } }
        set { scriptedCursor.withLock { $0 = newValue } }
    }

    func tweetServiceRouter() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: "tweet-service")
        router.register(CreateUser.self) { request, _ in try self.createUser(request) }
        router.register(Authenticate.self) { request, _ in
            try self.state.withLock { state throws(WireError) in
                guard let user = state.users.values.first(where: { $0.username == request.username }),
                    state.passwords[user.id] == request.password
                else { throw WireError(.unauthenticated, reason: "invalid_credentials", "wrong username or password") }
                let token = "\(user.id).\(String(UInt64.random(in: .min ... .max), radix: 16))"
                state.tokens[token] = user.id
                return Session(token: token, user: user)
            }
        }
        router.register(ResolveToken.self) { request, _ in
            self.resolveTokenCalls.add(1, ordering: .relaxed)
            return try self.state.withLock { state throws(WireError) in
                guard let id = state.tokens[request.value] else {
                    throw WireError(.unauthenticated, reason: "invalid_token", "unknown or revoked token")
                }
                return try state.user(id)
            }
        }
        router.register(RevokeToken.self) { request, _ in
            self.state.withLock { _ = $0.tokens.removeValue(forKey: request.value) }
            return WireEmpty()
        }
        router.register(GetUsers.self) { request, _ in
            self.state.withLock { state in UserPage(users: request.ids.compactMap { state.users[$0] }, nextCursor: nil)
            }
        }
        router.register(GetUserByUsername.self) { request, _ in
            try self.state.withLock { state throws(WireError) in
                guard let user = state.users.values.first(where: { $0.username == request.value }) else {
                    throw WireError(.notFound, reason: "unknown_user", "no user named \(request.value)")
                }
                return user
            }
        }
        router.register(Follow.self) { request, _ in try self.setFollow(request, following: true) }
        router.register(Unfollow.self) { request, _ in try self.setFollow(request, following: false) }
        router.register(ListFollowers.self) { request, _ in self.relationships(request, followers: true) }
        router.register(ListFollowing.self) { request, _ in self.relationships(request, followers: false) }
        router.register(CreateTweet.self) { request, _ in try self.createTweet(request) }
        router.register(GetTweets.self) { request, _ in
            self.state.withLock { state in TweetList(tweets: request.ids.compactMap { state.tweets[$0] }) }
        }
        router.register(DeleteTweet.self) { request, _ in
            try self.state.withLock { state throws(WireError) in
                guard let tweet = state.tweets[request.tweetID] else {
                    throw WireError(.notFound, reason: "unknown_tweet", "no tweet \(request.tweetID)")
                }
                guard tweet.userID == request.requesterID else {
                    throw WireError(.permissionDenied, reason: "not_owner", "only the author can delete a tweet")
                }
                state.tweets[request.tweetID] = nil
                state.users[tweet.userID]?.tweetsCount -= 1
                return WireEmpty()
            }
        }
        router.register(ListUserTweets.self) { query, _ in self.timeline(query) { $0.userID == query.userID } }
        return router
    }

    func timelineServiceRouter() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: "timeline-service")
        router.register(ReadPublicTimeline.self) { query, _ in self.timeline(query) { _ in true } }
        router.register(ReadHomeTimeline.self) { query, _ in
            self.homeReads.add(1, ordering: .relaxed)
            let followed = self.state.withLock { state in
                Set(state.edges.filter { $0.follower == query.userID }.map(\.followee))
            }
            return self.timeline(query) { $0.userID == query.userID || followed.contains($0.userID) }
        }
        return router
    }

    private func createUser(_ request: Credentials) throws(WireError) -> UserRecord {
        // The real rules, as the TweetService checks them (FieldRules is the one definition both sides use).
        guard FieldRules.isValidUsername(request.username) else {
            throw WireError(.invalidArgument, reason: "invalid_username", FieldRules.usernameRule)
        }
        guard FieldRules.isValidPassword(request.password) else {
            throw WireError(.invalidArgument, reason: "invalid_password", FieldRules.passwordRule)
        }
        return try state.withLock { state throws(WireError) in
            guard !state.users.values.contains(where: { $0.username == request.username }) else {
                throw WireError(.alreadyExists, reason: "username_taken", "that username is taken")
            }
            let id = state.allocateID()
            let user = UserRecord(id: id, username: request.username, createdAtMillis: 1_795_881_768_123 + id)
            state.users[id] = user
            state.passwords[id] = request.password
            return user
        }
    }

    private func setFollow(_ edge: FollowEdge, following: Bool) throws(WireError) -> FollowState {
        guard edge.followerID != edge.followeeID else {
            throw WireError(.invalidArgument, reason: "self_follow", "users cannot follow themselves")
        }
        return try state.withLock { state throws(WireError) in
            _ = try state.user(edge.followeeID)
            let existing = state.edges.firstIndex { $0.follower == edge.followerID && $0.followee == edge.followeeID }
            switch (following, existing) {
            case (true, nil):
                state.edges.append(Edge(id: state.allocateID(), follower: edge.followerID, followee: edge.followeeID))
                state.users[edge.followerID]?.followingCount += 1
                state.users[edge.followeeID]?.followersCount += 1
            case (false, let index?):
                state.edges.remove(at: index)
                state.users[edge.followerID]?.followingCount -= 1
                state.users[edge.followeeID]?.followersCount -= 1
            default:
                break
            }
            return FollowState(following: following)
        }
    }

    /// The newest `limit` relationships; the bounds are the router's (the real `checkBounds`).
    private func relationships(_ request: PageRequest, followers: Bool) -> UserPage {
        lastLists.withLock { $0.page = request }
        let users = state.withLock { state in
            state.edges
                .filter { (followers ? $0.followee : $0.follower) == request.userID }
                .sorted { $0.id > $1.id }
                .prefix(Int(request.limit))
                .compactMap { state.users[followers ? $0.follower : $0.followee] }
        }
        return UserPage(users: users, nextCursor: nextCursor)
    }

    private func createTweet(_ request: NewTweet) throws(WireError) -> TweetRecord {
        guard FieldRules.isValidTweetText(request.text) else {
            throw WireError(.invalidArgument, reason: "invalid_text", FieldRules.tweetTextRule)
        }
        return try state.withLock { state throws(WireError) in
            let author = try state.user(request.authorID)
            if let replyTo = request.inReplyToID, state.tweets[replyTo] == nil {
                throw WireError(
                    .invalidArgument, reason: "invalid_in_reply_to_id", "the tweet replied to does not exist")
            }
            let id = state.allocateID()
            let tweet = TweetRecord(
                id: id, userID: author.id, username: author.username, text: request.text,
                createdAtMillis: 1_795_881_768_123 + id, inReplyToID: request.inReplyToID
            )
            state.tweets[id] = tweet
            state.users[author.id]?.tweetsCount += 1
            return tweet
        }
    }

    /// The newest `limit` tweets that pass `filter`; the bounds are the router's (the real `checkBounds`).
    private func timeline(_ query: TimelineQuery, filter: (TweetRecord) -> Bool) -> TweetPage {
        lastLists.withLock { $0.timeline = query }
        let tweets = state.withLock { state in
            state.tweets.values.filter(filter).sorted { $0.id > $1.id }.prefix(Int(query.limit))
        }
        return TweetPage(tweets: Array(tweets), nextMaxID: nextCursor)
    }
}
