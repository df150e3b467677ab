// The TweetService's methods (ids 100-199). Errors use WireError codes with a reason naming the field or rule, e.g.
// invalid_argument/invalid_username, already_exists/username_taken, permission_denied/not_owner.

public enum CreateUser: WireMethod {
    public static let id = WireMethodID(rawValue: 100), name = "create_user"
    public static let callers = WireCallers(.gateway)
    public typealias Request = Credentials
    public typealias Response = UserRecord

    /// Fixed size but for strings bounded where they are decoded (``Credentials``).
    public static func checkBounds(_ request: Request) {}
}

public enum Authenticate: WireMethod {
    public static let id = WireMethodID(rawValue: 101), name = "authenticate"
    public static let callers = WireCallers(.gateway)
    public typealias Request = Credentials
    public typealias Response = Session

    /// Fixed size but for strings bounded where they are decoded (``Credentials``).
    public static func checkBounds(_ request: Request) {}
}

/// Token -> user; `unauthenticated` for an unknown or revoked token.
public enum ResolveToken: WireMethod {
    public static let id = WireMethodID(rawValue: 102), name = "resolve_token"
    public static let callers = WireCallers(.gateway)
    public typealias Request = Name
    public typealias Response = UserRecord

    /// Fixed size but for strings bounded where they are decoded (``Name``).
    public static func checkBounds(_ request: Request) {}
}

public enum RevokeToken: WireMethod {
    public static let id = WireMethodID(rawValue: 103), name = "revoke_token"
    public static let callers = WireCallers(.gateway)
    public typealias Request = Name
    public typealias Response = WireEmpty

    /// Fixed size but for strings bounded where they are decoded (``Name``).
    public static func checkBounds(_ request: Request) {}
}

/// Users by id; unknown ids are left out.
public enum GetUsers: WireMethod {
    public static let id = WireMethodID(rawValue: 104), name = "get_users"
    public static let callers = WireCallers(.gateway, .timelineService)
    public typealias Request = IDList
    public typealias Response = UserPage

    /// The most ids one call may name: callers look up one user at a time; a page of users is read server-side.
    public static let maxIDs = 100

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(
            count: request.ids.count, max: maxIDs, of: "ids", reason: WireRequestBounds.tooManyIDs)
    }
}

public enum GetUserByUsername: WireMethod {
    public static let id = WireMethodID(rawValue: 105), name = "get_user_by_username"
    public static let callers = WireCallers(.gateway)
    public typealias Request = Name
    public typealias Response = UserRecord

    /// Fixed size but for strings bounded where they are decoded (``Name``).
    public static func checkBounds(_ request: Request) {}
}

/// Idempotent; `invalid_argument/self_follow` for oneself, `not_found` for an unknown followee.
public enum Follow: WireMethod {
    public static let id = WireMethodID(rawValue: 106), name = "follow"
    public static let callers = WireCallers(.gateway)
    public typealias Request = FollowEdge
    public typealias Response = FollowState

    public static func checkBounds(_ request: Request) {}
}

public enum Unfollow: WireMethod {
    public static let id = WireMethodID(rawValue: 107), name = "unfollow"
    public static let callers = WireCallers(.gateway)
    public typealias Request = FollowEdge
    public typealias Response = FollowState

    public static func checkBounds(_ request: Request) {}
}

/// Newest relationship first; the cursor is the last entry's relationship id.
public enum ListFollowers: WireMethod {
    public static let id = WireMethodID(rawValue: 108), name = "list_followers"
    public static let callers = WireCallers(.gateway)
    public typealias Request = PageRequest
    public typealias Response = UserPage

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: WireRequestBounds.pageLimit)
    }
}

public enum ListFollowing: WireMethod {
    public static let id = WireMethodID(rawValue: 109), name = "list_following"
    public static let callers = WireCallers(.gateway)
    public typealias Request = PageRequest
    public typealias Response = UserPage

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: WireRequestBounds.pageLimit)
    }
}

/// Follower ids in large pages (up to ``limitRange``), for fan-out: only the followers whose home timelines may exist
/// now (``ExtendHomeLifetime``); the others have none to write, and their next read rebuilds one from the store.
public enum ListFollowerIDs: WireMethod {
    public static let id = WireMethodID(rawValue: 110), name = "list_follower_ids"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = PageRequest
    public typealias Response = IDList

    /// Pages of ids are large (8 bytes an id, 400 KiB at most) so that fan-out and rebuilds take few round trips.
    public static let limitRange: ClosedRange<UInt32> = 1...50_000

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: limitRange)
    }
}

public enum CreateTweet: WireMethod {
    public static let id = WireMethodID(rawValue: 111), name = "create_tweet"
    public static let callers = WireCallers(.gateway)
    public typealias Request = NewTweet
    public typealias Response = TweetRecord

    /// Fixed size but for strings bounded where they are decoded (``NewTweet``).
    public static func checkBounds(_ request: Request) {}
}

/// Tweets by id, one round trip per shard; ids that do not exist are left out.
public enum GetTweets: WireMethod {
    public static let id = WireMethodID(rawValue: 112), name = "get_tweets"
    public static let callers = WireCallers(.gateway, .timelineService)
    public typealias Request = IDList
    public typealias Response = TweetList

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(
            count: request.ids.count, max: TweetListBudget.maxIDsPerCall, of: "ids",
            reason: WireRequestBounds.tooManyIDs
        )
    }
}

/// Owner only: `permission_denied/not_owner` for anyone else, `not_found` when missing.
public enum DeleteTweet: WireMethod {
    public static let id = WireMethodID(rawValue: 113), name = "delete_tweet"
    public static let callers = WireCallers(.gateway)
    public typealias Request = TweetDeletion
    public typealias Response = WireEmpty

    public static func checkBounds(_ request: Request) {}
}

/// A user's own tweets straight from the store: a new tweet or a deletion shows here at once.
public enum ListUserTweets: WireMethod {
    public static let id = WireMethodID(rawValue: 114), name = "list_user_tweets"
    public static let callers = WireCallers(.gateway)
    public typealias Request = TimelineQuery
    public typealias Response = TweetPage

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: WireRequestBounds.pageLimit)
    }
}

public enum ListRecentTweets: WireMethod {
    public static let id = WireMethodID(rawValue: 115), name = "list_recent_tweets"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = RecentTweetsQuery
    public typealias Response = TweetList

    /// The most authors one call may name; a rebuild for someone who follows more asks in chunks of this many.
    public static let maxAuthorIDs = 1_000

    /// Up to a whole home timeline at once; answers are cut to ``TweetListBudget/maxBytes`` and continued by `maxID`.
    public static let limitRange: ClosedRange<UInt32> = 1...10_000

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(
            count: request.authorIDs.count, max: maxAuthorIDs, of: "author ids", reason: WireRequestBounds.tooManyIDs
        )
        try WireRequestBounds.check(limit: request.limit, in: limitRange)
    }
}

/// The ids a user follows in large pages: how a lost home timeline is rebuilt.
public enum ListFollowingIDs: WireMethod {
    public static let id = WireMethodID(rawValue: 116), name = "list_following_ids"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = PageRequest
    public typealias Response = IDList

    /// As large as ``ListFollowerIDs``'s, for the same reason: a rebuild reads all of them.
    public static let limitRange = ListFollowerIDs.limitRange

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: limitRange)
    }
}
