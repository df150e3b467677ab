import Logging
import Wire

/// The Gateway's way to the services behind it: one pooled ``WireClient`` per service, each over every instance.
///
/// Any number of instances of each service can be listed; the client spreads calls over them and fails over when one
/// stops answering. Adding a TimelineService is adding its address to the list.
public struct UpstreamServices: Sendable {
    /// Which service a call goes to, as metrics and logs name it.
    enum Role: String, Sendable {
        case tweets = "tweet-service"
        case timelines = "timeline-service"
    }

    /// The cluster's service key(s), which the clients prove; the web forms derive their CSRF key from it.
    let serviceKeys: WireServiceKeys
    public let tweets: WireClient
    public let timelines: WireClient
    /// The budget of each call.
    public let callTimeout: Duration
    /// The budget of sign-up and sign-in, which hash the password with scrypt: slow on purpose, and slower still on a
    /// busy TweetService.
    public let passwordHashingTimeout: Duration
    private let metrics: GatewayMetrics
    private let readiness: SharedCheck

    /// - Parameters:
    ///   - keys: the cluster's service key(s), proven on every connection (in the `gateway` role).
    ///   - transportSecurity: TLS beneath Wire, when the services are on other hosts; `nil` for plain TCP.
    ///   - tweetService: every TweetService instance.
    ///   - timelineService: every TimelineService instance.
    ///   - callTimeout: each Wire call's deadline.
    ///   - passwordHashingTimeout: the deadline of calls that hash a password.
    ///   - metrics: where call latencies are recorded.
    public init(
        keys: WireServiceKeys,
        transportSecurity: WireTransportSecurity? = nil,
        tweetService: [WireEndpoint],
        timelineService: [WireEndpoint],
        callTimeout: Duration = .seconds(5),
        passwordHashingTimeout: Duration = .seconds(20),
        metrics: GatewayMetrics,
        logger: Logger
    ) {
        let tweets = WireClient(
            configuration: WireClientConfiguration(
                endpoints: tweetService, role: .gateway, keys: keys, transportSecurity: transportSecurity
            ), logger: logger)
        let timelines = WireClient(
            configuration: WireClientConfiguration(
                endpoints: timelineService, role: .gateway, keys: keys, transportSecurity: transportSecurity
            ), logger: logger)
        serviceKeys = keys
        self.tweets = tweets
        self.timelines = timelines
        readiness = SharedCheck { await Self.bothAnswer(tweets, timelines, timeout: .seconds(1)) }
        self.callTimeout = callTimeout
        self.passwordHashingTimeout = passwordHashingTimeout
        self.metrics = metrics
    }

    /// Calls `method` on `service`, recording its latency and outcome.
    ///
    /// - Parameters:
    ///   - idempotent: the call may be made twice; a call that fails `unavailable` (its instance went away
    ///     mid-call, or none could be reached) is then tried once more, which the pool sends to another instance.
    ///   - timeout: the call's deadline; ``callTimeout`` unless given.
    /// - Throws: the service's ``WireError``, `deadline_exceeded` after the timeout, `unavailable` when no instance
    ///   answers.
    func call<Method: WireMethod>(
        _ service: Role,
        _ method: Method.Type,
        _ request: Method.Request,
        idempotent: Bool = false,
        timeout: Duration? = nil
    ) async throws(WireError) -> Method.Response {
        let client = service == .tweets ? tweets : timelines
        let timeout = timeout ?? callTimeout
        do {
            return try await measured(service, method, request, client: client, timeout: timeout)
        } catch let error where idempotent && error.code == .unavailable {
            return try await measured(service, method, request, client: client, timeout: timeout)
        }
    }

    private func measured<Method: WireMethod>(
        _ service: Role,
        _ method: Method.Type,
        _ request: Method.Request,
        client: WireClient,
        timeout: Duration
    ) async throws(WireError) -> Method.Response {
        let start = ContinuousClock.now
        do {
            let response = try await client.call(method, request, timeout: timeout)
            metrics.upstreamCallFinished(
                service: service.rawValue, method: Method.name, outcome: "ok", duration: .now - start)
            return response
        } catch {
            metrics.upstreamCallFinished(
                service: service.rawValue, method: Method.name, outcome: error.code.description, duration: .now - start
            )
            throw error
        }
    }

    /// Whether every service answers a health check within a second: what `/readyz` reports. Callers that arrive
    /// while a check runs share its answer.
    public func allReady() async -> Bool {
        await readiness.run()
    }

    private static func bothAnswer(_ tweets: WireClient, _ timelines: WireClient, timeout: Duration) async -> Bool {
        async let tweetsReady = (try? await tweets.call(HealthCheck.self, WireEmpty(), timeout: timeout)) != nil
        async let timelinesReady = (try? await timelines.call(HealthCheck.self, WireEmpty(), timeout: timeout)) != nil
        let (tweetsUp, timelinesUp) = await (tweetsReady, timelinesReady)
        return tweetsUp && timelinesUp
    }

    /// Closes every pooled connection.
    public func closeConnections() {
        tweets.closeConnections()
        timelines.closeConnections()
    }
}
