import Wire

/// The source of truth: users, sessions, tweets and the social graph.
public enum TweetServiceRouter {
    /// The name this service gives in handshakes and health checks.
    public static let serviceName = "tweet-service"

    /// The Wire methods this service serves.
    public static func make() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: serviceName)
        return router
    }
}
