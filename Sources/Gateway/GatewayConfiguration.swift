/// How a ``Gateway`` listens and what it allows each client. (How long it waits for the services behind it is
/// ``UpstreamServices``' business.)
///
/// The defaults run locally: loopback, port 8443, the API's 64 KiB body limit. Only ``transport`` has no default,
/// because a Gateway must be told where its certificate is, or be told explicitly to speak plain HTTP.
public struct GatewayConfiguration: Sendable {
    /// What the listening socket speaks.
    public enum Transport: Sendable, Hashable {
        /// TLS 1.2/1.3 through OpenSSL with the PEM certificate chain (leaf first) and private key at these paths.
        case tls(certificateChainPath: String, privateKeyPath: String)
        /// Plain HTTP/1.1, for tests and local tools; refused unless the Gateway listens on loopback.
        case plainHTTP
    }

    /// What one connection or request may cost.
    public struct Limits: Sendable, Hashable {
        /// Request bodies longer than this are answered 413 `payload_too_large` (the API promises 64 KiB).
        public var maxBodyBytes: Int
        /// The request line and all header fields together.
        public var maxHeaderBytes: Int
        /// Connections open at once; beyond it the Gateway stops accepting until one closes.
        public var maxConnections: Int
        /// Connections one client address may hold at once; more are closed before their handshake. Clients behind
        /// one NAT share an address, so this is generous; it stops one client from taking every connection.
        public var maxConnectionsPerAddress: Int
        /// A connection with no request for this long is closed.
        public var idleTimeout: Duration
        /// From a request's head to the end of its body; a client that takes longer loses the connection.
        public var requestReadTimeout: Duration
        /// From a response's head until its last byte is handed to the socket; a client that stops reading a large
        /// answer loses the connection.
        public var responseWriteTimeout: Duration
        /// After a 413 the Gateway stops sending and waits this long for the client to close before closing itself,
        /// so that the client reads the answer instead of a reset.
        public var lingerTimeout: Duration

        public init(
            maxBodyBytes: Int = 65_536,
            maxHeaderBytes: Int = 16_384,
            maxConnections: Int = 10_000,
            maxConnectionsPerAddress: Int = 1_000,
            idleTimeout: Duration = .seconds(60),
            requestReadTimeout: Duration = .seconds(30),
            responseWriteTimeout: Duration = .seconds(30),
            lingerTimeout: Duration = .seconds(2)
        ) {
            self.maxBodyBytes = maxBodyBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.idleTimeout = idleTimeout
            self.requestReadTimeout = requestReadTimeout
            self.responseWriteTimeout = responseWriteTimeout
            self.lingerTimeout = lingerTimeout
        }
    }

    /// The address to bind; loopback by default.
    public var host: String
    /// The port to bind; 0 picks a free one (reported through the Gateway's `onListening`).
    public var port: Int
    public var transport: Transport
    public var limits: Limits
    public var rateLimit: RateLimiter.Configuration
    public var tokenCache: TokenCache.Configuration
    public var homePageCache: HomePageCache.Configuration
    public var signInGuard: SignInGuard.Configuration

    public init(
        host: String = "127.0.0.1",
        port: Int = 8443,
        transport: Transport,
        limits: Limits = Limits(),
        rateLimit: RateLimiter.Configuration = RateLimiter.Configuration(),
        tokenCache: TokenCache.Configuration = TokenCache.Configuration(),
        homePageCache: HomePageCache.Configuration = HomePageCache.Configuration(),
        signInGuard: SignInGuard.Configuration = SignInGuard.Configuration()
    ) {
        self.host = host
        self.port = port
        self.transport = transport
        self.limits = limits
        self.rateLimit = rateLimit
        self.tokenCache = tokenCache
        self.homePageCache = homePageCache
        self.signInGuard = signInGuard
    }

    /// Checks the rules no type can express; ``Gateway`` runs it before binding.
    ///
    /// - Throws: ``GatewayError`` `invalid_configuration`: plain HTTP off loopback, or a limit that is not positive.
    public func validate() throws(GatewayError) {
        if case .plainHTTP = transport, !Self.isLoopback(host) {
            throw GatewayError(.invalidConfiguration, "plain HTTP is only allowed on loopback, not on \(host)")
        }
        guard (0...65_535).contains(port) else {
            throw GatewayError(.invalidConfiguration, "port \(port) is out of range")
        }
        guard limits.maxBodyBytes > 0, limits.maxHeaderBytes > 0, limits.maxConnections > 0,
            limits.maxConnectionsPerAddress > 0
        else {
            throw GatewayError(.invalidConfiguration, "body, header and connection limits must be positive")
        }
        guard limits.idleTimeout > .zero, limits.requestReadTimeout > .zero, limits.responseWriteTimeout > .zero,
            limits.lingerTimeout > .zero
        else {
            throw GatewayError(.invalidConfiguration, "timeouts must be positive")
        }
        try rateLimit.validate()
        try tokenCache.validate()
        try homePageCache.validate()
        try signInGuard.validate()
    }

    /// Whether `host` names this machine only: `localhost`, `::1` or an address in 127.0.0.0/8.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }
}

/// Why a Gateway could not start. The ``code`` is stable and safe to log; the message is for people.
public struct GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error class, named in snake_case.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let description: String

        private init(_ name: String) {
            description = name
        }

        /// The configuration cannot work; the message names the setting.
        public static let invalidConfiguration = Code("invalid_configuration")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
