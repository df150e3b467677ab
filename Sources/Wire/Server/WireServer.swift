import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Wire server: accepts connections, performs the handshake and dispatches requests to a ``WireRouter``.
///
/// Bind it with ``bind(configuration:router:eventLoopGroup:logger:)``, then ``run()`` it, usually in a
/// `ServiceGroup`. On graceful shutdown it stops accepting, sends `goAway` on every connection, finishes the
/// requests in flight and returns. Cancelling `run()` closes everything at once.
public final class WireServer: Service, Sendable {
    private let serverChannel: NIOAsyncChannel<WireServerConnection, Never>
    private let accepted: AcceptedChannels
    private let configuration: WireServerConfiguration
    private let logger: Logger
    private let connections = Mutex<[ObjectIdentifier: WireServerConnection]>([:])
    private let inFlight: SharedAtomic<Int>
    /// Set once the server is closing at once (its `run()` was cancelled): connections still queued are closed.
    private let closing = Atomic<Bool>(false)

    /// The port the server listens on (the chosen one when the configuration said 0).
    public let port: Int

    private init(
        serverChannel: NIOAsyncChannel<WireServerConnection, Never>,
        accepted: AcceptedChannels,
        inFlight: SharedAtomic<Int>,
        configuration: WireServerConfiguration,
        logger: Logger
    ) {
        self.serverChannel = serverChannel
        self.accepted = accepted
        self.inFlight = inFlight
        self.configuration = configuration
        self.logger = logger
        self.port = serverChannel.channel.localAddress?.port ?? configuration.port
    }

    /// Binds the listening socket. The server takes connections once ``run()`` is called.
    public static func bind(
        configuration: WireServerConfiguration,
        router: WireRouter,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> WireServer {
        let security = configuration.transportSecurity
        let accepted = AcceptedChannels()
        let inFlight = SharedAtomic<Int>(0)
        let refusals = HandshakeRefusalLog()
        var logger = logger
        logger[metadataKey: "server"] = "\(configuration.serverName)"
        let connectionLogger = logger
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try security?.secure(channel.pipeline.syncOperations, nil)
                    let connection = try WireServerConnection(
                        channel: channel, router: router, configuration: configuration, serverInFlight: inFlight,
                        refusals: refusals, logger: connectionLogger
                    )
                    accepted.hold(connection)
                    return connection
                }
            }
        let server = WireServer(
            serverChannel: channel, accepted: accepted, inFlight: inFlight, configuration: configuration,
            logger: logger
        )
        logger.info(
            "wire server listening",
            metadata: ["address": "\(configuration.host):\(server.port)", "transport": "\(security?.name ?? "tcp")"]
        )
        return server
    }

    /// Requests running right now, over all connections.
    public var inFlightRequests: Int { inFlight.value.load(ordering: .relaxed) }

    /// Serves until a graceful shutdown has drained every connection. Cancelling it closes the listening socket and
    /// every connection at once, and returns when they are closed.
    ///
    /// The accept loop runs in a task of its own that cancellation does not reach: a cancelled loop would drop the
    /// connections still queued instead of closing them.
    public func run() async throws {
        let acceptLoop = Task { try await self.acceptConnections() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await acceptLoop.value
            } onGracefulShutdown: {
                self.shutdownGracefully()
            }
        } onCancel: {
            self.closeNow()
        }
    }

    private func acceptConnections() async throws {
        try await serverChannel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                do {
                    for try await connection in inbound {
                        accepted.take(connection)
                        guard !closing.load(ordering: .relaxed),
                            connections.withLock({ $0.count }) < configuration.maxConnections
                        else {
                            if !closing.load(ordering: .relaxed) {
                                logger.warning(
                                    "refusing connection over the limit",
                                    metadata: ["limit": "\(configuration.maxConnections)"])
                            }
                            connection.close()
                            continue
                        }
                        let key = ObjectIdentifier(connection)
                        connections.withLock { $0[key] = connection }
                        group.addTask {
                            await connection.run()
                            self.connections.withLock { _ = $0.removeValue(forKey: key) }
                        }
                    }
                } catch {
                    // The listening socket closed (shutdown): stop accepting, but let the group wait for the
                    // connections to drain rather than cancelling them.
                    logger.debug("accept loop ended", metadata: ["error": "\(error)"])
                }
                for connection in accepted.closeAndTakeRest() {
                    connection.close()
                }
            }
        }
    }

    /// Closes the listening socket and every connection without waiting for requests in flight.
    private func closeNow() {
        closing.store(true, ordering: .relaxed)
        serverChannel.channel.close(promise: nil)
        for connection in connections.withLock({ Array($0.values) }) {
            connection.close()
        }
    }

    /// Stops accepting and drains every connection.
    public func shutdownGracefully() {
        logger.info("wire server draining")
        serverChannel.channel.close(promise: nil)
        for connection in connections.withLock({ Array($0.values) }) {
            connection.drain(reason: "server shutting down")
        }
    }
}
