import Wire

/// Every method the services serve, for tests that hold each one to its documentation (`docs/wire.md`: who may call
/// it, its request bounds). `RequestBoundsTableTests` checks that every method declared in `Sources/Wire/Methods` is
/// listed here, so a new method cannot skip those checks.
public enum WireMethodCatalog {
    public static let all: [any WireMethod.Type] = [
        HealthCheck.self, ReadMetrics.self,
        CreateUser.self, Authenticate.self, ResolveToken.self, RevokeToken.self, GetUsers.self, GetUserByUsername.self,
        Follow.self, Unfollow.self, ListFollowers.self, ListFollowing.self, ListFollowerIDs.self, CreateTweet.self,
        GetTweets.self, DeleteTweet.self, ListUserTweets.self, ListRecentTweets.self, ListFollowingIDs.self,
        ListFirstFollowerPages.self, ExtendHomeLifetime.self,
        DeliverEvents.self, ReadPublicTimeline.self, ReadHomeTimeline.self,
        ReadQueueStats.self, ReadFanOutDelay.self,
    ]
}
