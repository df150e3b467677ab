/// A `host:port` that serves Wire.
public struct WireEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; `nil` when the port is missing or not a number.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon != text.startIndex
        else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }

    /// Parses a comma-separated list such as `127.0.0.1:7001,127.0.0.1:7002`.
    public static func list(_ text: String) -> [WireEndpoint]? {
        let endpoints = text.split(separator: ",").map { WireEndpoint($0.filter { !$0.isWhitespace }) }
        guard !endpoints.isEmpty, endpoints.allSatisfy({ $0 != nil }) else { return nil }
        return endpoints.compactMap { $0 }
    }

    public var description: String { "\(host):\(port)" }
}

/// How a ``WireClient`` reaches one service.
public struct WireClientConfiguration: Sendable {
    /// Every instance of the service. Requests go to the least-loaded healthy connection among them.
    public var endpoints: [WireEndpoint]
    /// The role this client proves its connections in; servers serve it only the methods that role may call.
    public var role: WirePeerRole
    /// The cluster's service key(s): the client proves it holds the current one, and accepts a server that proves
    /// either.
    public var keys: WireServiceKeys
    /// Connections kept to each endpoint (more spread the load over the server's event loops).
    public var connectionsPerEndpoint: Int
    /// Used when a call names no timeout.
    public var defaultTimeout: Duration
    /// TCP connect plus handshake.
    public var connectTimeout: Duration
    /// The first wait before reconnecting to an endpoint that failed; it doubles per failure up to the maximum.
    public var reconnectBackoff: Duration
    public var maxReconnectBackoff: Duration
    /// Frames longer than this from the server close the connection.
    public var maxFrameLength: Int
    /// TLS (or anything else) beneath the framing; `nil` for plain TCP.
    public var transportSecurity: WireTransportSecurity?

    public init(
        endpoints: [WireEndpoint],
        role: WirePeerRole,
        keys: WireServiceKeys,
        connectionsPerEndpoint: Int = 2,
        defaultTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(1),
        reconnectBackoff: Duration = .milliseconds(50),
        maxReconnectBackoff: Duration = .seconds(5),
        maxFrameLength: Int = WireFrame.defaultMaxLength,
        transportSecurity: WireTransportSecurity? = nil
    ) {
        precondition(!endpoints.isEmpty, "a Wire client needs at least one endpoint")
        self.endpoints = endpoints
        self.role = role
        self.keys = keys
        self.connectionsPerEndpoint = max(1, connectionsPerEndpoint)
        self.defaultTimeout = defaultTimeout
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.maxReconnectBackoff = maxReconnectBackoff
        self.maxFrameLength = maxFrameLength
        self.transportSecurity = transportSecurity
    }
}
