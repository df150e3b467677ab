import ArgumentParser
import Gateway
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ServiceRuntime
import Wire

/// `gateway`: the public HTTPS API in front of the TweetService and the TimelineService.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve Tweeter's public HTTP/JSON API over TLS, calling the services behind it over Wire."
    )

    @OptionGroup var serviceKey: ServiceKeyOptions
    @OptionGroup var wireTLS: WireTLSOptions

    @Option(help: "host:port to listen on (an IPv6 host in brackets: [::1]:8443).")
    var listen: String = "127.0.0.1:8443"

    @Option(help: "PEM file with the certificate chain, leaf first.")
    var tlsCertificate: String?

    @Option(help: "PEM file with the certificate's private key.")
    var tlsKey: String?

    @Flag(help: "Serve plain HTTP instead of TLS (loopback addresses only).")
    var plainHTTP = false

    @Option(help: "Comma-separated host:port list of TweetService instances.")
    var tweetService: String = "127.0.0.1:7100"

    @Option(help: "Comma-separated host:port list of TimelineService instances.")
    var timelineService: String = "127.0.0.1:7200"

    @Option(help: "Sustained requests per second per client (token, or address when anonymous); 0 disables.")
    var rateLimit: Double = 20

    @Option(help: "Requests a client may make at once.")
    var rateBurst: Int = 40

    @Option(help: "Connections served at once; more wait in the listen backlog.")
    var maxConnections: Int = 10_000

    @Option(help: "Connections one client address may hold at once; more are closed at once.")
    var maxConnectionsPerAddress: Int = 1_000

    @Option(help: "Seconds a connection may sit idle between requests.")
    var idleTimeout: Int = 60

    @Option(help: "Seconds a request may take to arrive, head to end of body.")
    var requestTimeout: Int = 30

    @Option(help: "Seconds an answer may take to leave, head to last byte written to the socket.")
    var responseTimeout: Int = 30

    @Option(help: "Milliseconds each Wire call to a service may take.")
    var upstreamTimeoutMs: Int = 5000

    @Option(help: "Milliseconds sign-up and sign-in may take (they hash the password with scrypt).")
    var passwordTimeoutMs: Int = 20_000

    @Option(help: "Seconds a confirmed session token is trusted without asking the TweetService again.")
    var tokenCacheSeconds: Int = 5

    @Option(help: "Users whose home pages are kept for 250 ms after a read (repeated reads of a page); 0 disables.")
    var homePageCacheUsers: Int = 512

    @Option(help: "Failed sign-ins per username from one client address per --sign-in-window-seconds; 0 disables.")
    var signInFailuresPerAddress: Int = 10

    @Option(help: "Failed sign-ins per username from all addresses per --sign-in-window-seconds; 0 disables.")
    var signInFailuresPerUsername: Int = 100

    @Option(help: "Seconds over which the sign-in failure limits refill.")
    var signInWindowSeconds: Int = 900

    @Option(help: "Sign-ins and sign-ups one client address may have in flight at once; 0 disables.")
    var passwordRequestsPerAddress: Int = 1

    @Option(help: "Sign-ups per client address per hour; 0 disables.")
    var signUpsPerAddressPerHour: Int = 20

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard WireEndpoint(listen) != nil else { throw ValidationError("--listen takes host:port") }
        guard WireEndpoint.list(tweetService) != nil, WireEndpoint.list(timelineService) != nil else {
            throw ValidationError("--tweet-service and --timeline-service take comma-separated host:port lists")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard plainHTTP || (tlsCertificate != nil && tlsKey != nil) else {
            throw ValidationError("give --tls-certificate and --tls-key, or --plain-http on a loopback address")
        }
    }

    func run() async throws {
        let process = ServiceProcess.bootstrap(label: "gateway", logLevel: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = process.logger
        let keys = try serviceKey.keys()

        let metrics = GatewayMetrics(registry: process.metrics)
        let upstream = UpstreamServices(
            keys: keys,
            transportSecurity: try wireTLS.clientSecurity(),
            tweetService: WireEndpoint.list(tweetService) ?? [],
            timelineService: WireEndpoint.list(timelineService) ?? [],
            callTimeout: .milliseconds(upstreamTimeoutMs),
            passwordHashingTimeout: .milliseconds(passwordTimeoutMs),
            metrics: metrics,
            logger: logger
        )
        let gateway = try Gateway(
            configuration: gatewayConfiguration(),
            upstream: upstream,
            metrics: metrics,
            logger: logger
        )
        try await process.run([gateway])
        upstream.closeConnections()
    }

    private func gatewayConfiguration() -> GatewayConfiguration {
        let address = WireEndpoint(listen) ?? WireEndpoint(host: "127.0.0.1", port: 8443)
        let transport: GatewayConfiguration.Transport =
            if plainHTTP {
                .plainHTTP
            } else {
                .tls(certificateChainPath: tlsCertificate ?? "", privateKeyPath: tlsKey ?? "")
            }
        return GatewayConfiguration(
            host: address.host.hasPrefix("[") ? String(address.host.dropFirst().dropLast()) : address.host,
            port: address.port,
            transport: transport,
            limits: GatewayConfiguration.Limits(
                maxConnections: maxConnections,
                maxConnectionsPerAddress: maxConnectionsPerAddress,
                idleTimeout: .seconds(idleTimeout),
                requestReadTimeout: .seconds(requestTimeout),
                responseWriteTimeout: .seconds(responseTimeout)
            ),
            rateLimit: RateLimiter.Configuration(requestsPerSecond: rateLimit, burst: rateBurst),
            tokenCache: TokenCache.Configuration(ttl: .seconds(tokenCacheSeconds)),
            homePageCache: HomePageCache.Configuration(maxUsers: homePageCacheUsers),
            signInGuard: SignInGuard.Configuration(
                failuresPerUsernameAndAddress: signInFailuresPerAddress,
                failuresPerUsername: signInFailuresPerUsername,
                failureWindow: .seconds(signInWindowSeconds),
                passwordRequestsPerAddress: passwordRequestsPerAddress,
                signUpsPerAddressPerHour: signUpsPerAddressPerHour
            )
        )
    }
}
