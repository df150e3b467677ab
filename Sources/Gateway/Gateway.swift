import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import TLS

/// The front door of Tweeter: TLS (OpenSSL), HTTP/1.1 with keep-alive (Hummingbird), the public JSON API and the web
/// pages built on the same calls, each request turned into Wire calls to the TweetService and the TimelineService.
///
/// A Gateway holds nothing that matters between requests (rate limit buckets and cached token checks can be lost at
/// any time), so any number can run side by side. Run it in a `ServiceGroup`; on graceful shutdown it stops accepting,
/// finishes the requests in flight and closes idle connections.
///
/// ```swift
/// let metrics = GatewayMetrics()
/// let upstream = UpstreamServices(keys: keys, tweetService: tweets, timelineService: timelines, metrics: metrics, logger: logger)
/// let gateway = try Gateway(configuration: configuration, upstream: upstream, metrics: metrics, logger: logger)
/// try await ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
public struct Gateway: Service {
    let application: Application<GatewayResponder>

    /// Checks the configuration and loads the certificate; nothing listens until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: address, transport, limits, rate limits and timeouts.
    ///   - upstream: the services behind the Gateway.
    ///   - metrics: where requests and Wire calls are counted; served on `/metrics`.
    ///   - logger: for the server and every request (each request's lines carry its `trace_id`).
    ///   - onListening: called with the bound port once the socket listens (useful with port 0).
    /// - Throws: ``GatewayError`` for an unusable configuration, ``TLSError`` when the certificate or key cannot be
    ///   loaded. Reads files: call it at startup, not on an event loop.
    public init(
        configuration: GatewayConfiguration,
        upstream: UpstreamServices,
        metrics: GatewayMetrics,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        try configuration.validate()
        let tlsContext: TLSContext? =
            switch configuration.transport {
            case .tls(let certificateChainPath, let privateKeyPath):
                try TLSContext(
                    configuration: TLSConfiguration(
                        role: .server(certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath)
                    )
                )
            case .plainHTTP:
                nil
            }
        let limits = configuration.limits
        let responder = GatewayResponder(
            routes: APIHandlers.siteRouteTable(),
            handlers: APIHandlers(
                upstream: upstream, metrics: metrics, tokenCache: TokenCache(configuration: configuration.tokenCache),
                homePages: HomePageCache(configuration: configuration.homePageCache),
                signInGuard: SignInGuard(configuration: configuration.signInGuard),
                site: try WebSite(serviceKeys: upstream.serviceKeys)),
            maxBodyBytes: limits.maxBodyBytes,
            rateLimiter: RateLimiter(configuration: configuration.rateLimit)
        )
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestBodyGuardHandler(limits: limits, logger: logger)],
            idleTimeout: nil,  // kept by TLSHTTP1Channel's InlineAnswerHandler, which sees every request
            httpDecoderConfiguration: HTTP1Channel.Configuration.DecoderConfiguration(
                maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                maxHeaderFieldCount: 100
            )
        )
        let connections = ConnectionsPerAddress(limit: limits.maxConnectionsPerAddress)
        let inlineRoutes = [
            responder.inlineRoute(.post, "/api/v1/tweets", logger: logger),
            responder.inlineRoute(.get, "/api/v1/timelines/home", logger: logger),
        ]
        let server = HTTPServerBuilder { respond in
            TLSHTTP1Channel(
                base: HTTP1Channel(responder: respond, configuration: http1), tlsContext: tlsContext,
                connections: connections, inlineAnswers: [.health], inlineRoutes: inlineRoutes, limits: limits,
                metrics: metrics)
        }
        application = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)
            ),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }

    /// Listens and serves until graceful shutdown (or cancellation).
    public func run() async throws {
        try await application.run()
    }
}
