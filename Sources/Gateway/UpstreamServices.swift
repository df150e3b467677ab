import Logging
import Wire

/// The Gateway's way to the services behind it: one pooled ``WireClient`` per service, each over every instance.
public struct UpstreamServices: Sendable {
    public let tweets: WireClient
    public let timelines: WireClient

    public init(tweetService: [WireEndpoint], timelineService: [WireEndpoint], logger: Logger) {
        tweets = WireClient(configuration: WireClientConfiguration(endpoints: tweetService, clientName: "gateway"), logger: logger)
        timelines = WireClient(configuration: WireClientConfiguration(endpoints: timelineService, clientName: "gateway"), logger: logger)
    }

    /// Whether every service answers a health check: what `/readyz` reports.
    public func allReady(timeout: Duration = .seconds(1)) async -> Bool {
        async let tweetsReady = (try? await tweets.call(HealthCheck.self, WireEmpty(), timeout: timeout)) != nil
        async let timelinesReady = (try? await timelines.call(HealthCheck.self, WireEmpty(), timeout: timeout)) != nil
        let (tweetsUp, timelinesUp) = await (tweetsReady, timelinesReady)
        return tweetsUp && timelinesUp
    }
}
