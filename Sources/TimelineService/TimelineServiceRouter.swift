import Wire

/// Materialized timelines, the tweet cache and the fan-out.
public enum TimelineServiceRouter {
    /// The name this service gives in handshakes and health checks.
    public static let serviceName = "timeline-service"

    /// The Wire methods this service serves.
    public static func make() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: serviceName)
        return router
    }
}
