/// How a ``WireServer`` listens and what it allows each peer.
public struct WireServerConfiguration: Sendable {
    /// The address to bind; loopback by default.
    public var host: String
    /// The port to bind; 0 picks a free one (see ``WireServer/port``).
    public var port: Int
    /// The name sent in `helloAck` and shown in health checks, e.g. `tweet-service`.
    public var serverName: String
    /// Frames longer than this close the connection before they are buffered.
    public var maxFrameLength: Int
    /// Requests one connection may have running at once; more are answered `resource_exhausted` at once.
    public var maxInFlightRequestsPerConnection: Int
    /// Connections beyond this are closed as soon as they are accepted.
    public var maxConnections: Int
    /// Applied to requests that carry no timeout, and the cap for those that do.
    public var maxRequestTimeout: Duration
    /// A connection that has not completed the handshake by then is closed.
    public var handshakeTimeout: Duration
    /// The cluster's service key(s): a client must prove it holds one before any request is read.
    public var keys: WireServiceKeys
    /// TLS (or anything else) beneath the framing; `nil` for plain TCP.
    public var transportSecurity: WireTransportSecurity?

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        serverName: String,
        keys: WireServiceKeys,
        maxFrameLength: Int = WireFrame.defaultMaxLength,
        maxInFlightRequestsPerConnection: Int = 4096,
        maxConnections: Int = 4096,
        maxRequestTimeout: Duration = .seconds(30),
        handshakeTimeout: Duration = .seconds(5),
        transportSecurity: WireTransportSecurity? = nil
    ) {
        self.host = host
        self.port = port
        self.serverName = serverName
        self.maxFrameLength = maxFrameLength
        self.maxInFlightRequestsPerConnection = maxInFlightRequestsPerConnection
        self.maxConnections = maxConnections
        self.maxRequestTimeout = maxRequestTimeout
        self.handshakeTimeout = handshakeTimeout
        self.keys = keys
        self.transportSecurity = transportSecurity
    }
}
