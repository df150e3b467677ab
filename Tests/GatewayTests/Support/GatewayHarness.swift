import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TLSTestSupport
import Testing
import Wire
import WireTestSupport

@testable import Gateway

/// A Gateway in front of ``StandInServices`` served by real ``WireServer``s on 127.0.0.1.
struct GatewayHarness: Sendable {
    let services: StandInServices
    let gateway: Gateway
    let metrics: GatewayMetrics

    static let logger: Logger = {
        var logger = Logger(label: "gateway-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A port nothing listens on: upstream calls to it fail `unavailable`.
    static let deadEndpoint = WireEndpoint(host: "127.0.0.1", port: 1)

    /// Starts the stand-in services, builds a Gateway in front of them and runs `body`; stops the services after.
    ///
    /// - Parameters:
    ///   - timelinesDown: point the Gateway's TimelineService client at a dead port instead.
    ///   - configure: changes to the Gateway's configuration (plain HTTP on port 0 by default).
    static func with<T: Sendable>(
        timelinesDown: Bool = false,
        configure: (inout GatewayConfiguration) -> Void = { _ in },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        _ body: @Sendable (GatewayHarness) async throws -> T
    ) async throws -> T {
        let services = StandInServices()
        let tweetServer = try await WireServer.bind(
            configuration: WireServerConfiguration(serverName: "tweet-service", keys: TestServiceKeys.shared),
            router: services.tweetServiceRouter(),
            logger: logger
        )
        let timelineServer = try await WireServer.bind(
            configuration: WireServerConfiguration(serverName: "timeline-service", keys: TestServiceKeys.shared),
            router: services.timelineServiceRouter(),
            logger: logger
        )
        // Unlimited unless a test says otherwise: router tests all come from one (unknown) address.
        var configuration = GatewayConfiguration(
            port: 0, transport: .plainHTTP, rateLimit: RateLimiter.Configuration(requestsPerSecond: 0),
            signInGuard: SignInGuard.Configuration(signUpsPerAddressPerHour: 0))
        configure(&configuration)
        let metrics = GatewayMetrics()
        let upstream = UpstreamServices(
            keys: TestServiceKeys.shared,
            tweetService: [WireEndpoint(host: "127.0.0.1", port: tweetServer.port)],
            timelineService: [
                timelinesDown ? deadEndpoint : WireEndpoint(host: "127.0.0.1", port: timelineServer.port)
            ],
            metrics: metrics,
            logger: logger
        )
        let gateway = try Gateway(
            configuration: configuration, upstream: upstream, metrics: metrics, logger: logger, onListening: onListening
        )
        let harness = GatewayHarness(services: services, gateway: gateway, metrics: metrics)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await tweetServer.run() }
            group.addTask { try await timelineServer.run() }
            defer {
                upstream.closeConnections()
                group.cancelAll()
            }
            return try await body(harness)
        }
    }

    /// Runs `body` with a client that hands requests straight to the Gateway's responder (no sockets for HTTP).
    func withRouterClient<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await withClient(.router, body)
    }

    /// Runs `body` with a client that reaches the Gateway by `path`.
    func withClient<T: Sendable>(
        _ path: ClientPath, _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await gateway.application.test(path == .router ? .router : .live) { client in try await body(client) }
    }
}

/// How a test's requests reach the Gateway.
enum ClientPath: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Straight to the responder: Hummingbird's route table, no sockets.
    case router
    /// Over a keep-alive HTTP/1.1 socket through the Gateway's channel, where routes served below Hummingbird
    /// (``InlineRoute``) are answered by the ``InlineAnswerHandler``.
    case socket

    var testDescription: String { rawValue }
}

/// The API's calls, as a user makes them, on a router test client.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token {
            headers[.authorization] = "Bearer \(token)"
        }
        if json != nil {
            headers[.contentType] = "application/json"
        }
        return try await client.execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Signs up `username` (password `password123`) and signs in; returns the user's id and token.
    func signUp(_ username: String) async throws -> (id: String, token: String) {
        let created = try await call(
            .post, "/api/v1/users", json: #"{"username":"\#(username)","password":"password123"}"#)
        guard created.status == .created, let id = try created.jsonObject()["id"] as? String else {
            throw TestFailure("sign-up of \(username) answered \(created.status)")
        }
        let session = try await call(
            .post, "/api/v1/sessions", json: #"{"username":"\#(username)","password":"password123"}"#)
        guard session.status == .created, let token = try session.jsonObject()["token"] as? String else {
            throw TestFailure("sign-in of \(username) answered \(session.status)")
        }
        return (id, token)
    }

    /// Posts a tweet and returns its id.
    func tweet(_ text: String, token: String) async throws -> String {
        let response = try await call(.post, "/api/v1/tweets", token: token, json: #"{"text":"\#(text)"}"#)
        guard response.status == .created, let id = try response.jsonObject()["id"] as? String else {
            throw TestFailure("tweet answered \(response.status)")
        }
        return id
    }
}
