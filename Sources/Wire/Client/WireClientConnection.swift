import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What the pool reads about a connection from other threads.
final class WireClientConnectionState: Sendable {
    private let draining = Atomic<Bool>(false)
    fileprivate let inFlight = Atomic<Int>(0)

    func markDraining() {
        draining.store(true, ordering: .relaxed)
    }

    var isDraining: Bool { draining.load(ordering: .relaxed) }
    var inFlightRequests: Int { inFlight.load(ordering: .relaxed) }
}

/// One handshaken connection to one endpoint, carrying many requests at once.
final class WireClientConnection: Sendable {
    let endpoint: WireEndpoint
    private let channel: any Channel
    private let handler: NIOLoopBound<WireClientHandler>
    private let state: WireClientConnectionState

    /// The most requests the server lets this connection have in flight (from its helloAck).
    let maxInFlightRequests: Int
    /// The largest frame the server accepts (from its helloAck), header included.
    let maxFrameLength: Int

    private init(
        endpoint: WireEndpoint, channel: any Channel, handler: NIOLoopBound<WireClientHandler>,
        state: WireClientConnectionState, maxInFlightRequests: Int, maxFrameLength: Int
    ) {
        self.endpoint = endpoint
        self.channel = channel
        self.handler = handler
        self.state = state
        self.maxInFlightRequests = maxInFlightRequests
        self.maxFrameLength = maxFrameLength
    }

    /// Connects and completes the handshake within `configuration.connectTimeout`.
    static func connect(
        to endpoint: WireEndpoint,
        configuration: WireClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> WireClientConnection {
        let state = WireClientConnectionState()
        let eventLoop = eventLoopGroup.next()
        let handshake = eventLoop.makePromise(of: WireHelloAck.self)
        let handshakeState = ClientHandshake(role: configuration.role, keys: configuration.keys)
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(endpoint)"
        let handlerLogger = logger
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try configuration.transportSecurity?.secure(channel.pipeline.syncOperations, endpoint.host)
                        try channel.pipeline.syncOperations.addHandler(
                            WireClientHandler(
                                handshake: handshakeState, completion: handshake, state: state,
                                maxFrameLength: configuration.maxFrameLength, logger: handlerLogger
                            ))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            handshake.fail(error)
            throw WireError.unavailable("cannot connect to \(endpoint): \(error)")
        }
        let handshakeTimeout = eventLoop.scheduleTask(in: TimeAmount(configuration.connectTimeout)) {
            handshake.fail(WireError.unavailable("no handshake from \(endpoint) in time"))
        }
        let ack: WireHelloAck
        let handler: NIOLoopBound<WireClientHandler>
        do {
            ack = try await handshake.futureResult.get()
            handshakeTimeout.cancel()
            handler = try await eventLoop.submit {
                NIOLoopBound(
                    try channel.pipeline.syncOperations.handler(type: WireClientHandler.self), eventLoop: eventLoop)
            }.get()
        } catch {
            handshakeTimeout.cancel()
            channel.close(promise: nil)
            if let refusal = error as? WireError, refusal.code == .unauthenticated {
                // Not a passing outage: a key or role that does not match. Say so rather than "unavailable".
                throw WireError(
                    .unauthenticated, reason: refusal.reason, "handshake with \(endpoint) refused: \(refusal.message)")
            }
            throw WireError.unavailable("handshake with \(endpoint) failed: \(error)")
        }
        return WireClientConnection(
            endpoint: endpoint, channel: channel, handler: handler, state: state,
            maxInFlightRequests: Int(ack.maxInFlightRequests), maxFrameLength: Int(ack.maxFrameLength)
        )
    }

    var isUsable: Bool { channel.isActive && !state.isDraining }
    /// Whether one more request fits under the server's limit.
    var hasCapacity: Bool { state.inFlightRequests < maxInFlightRequests }
    var inFlightRequests: Int { state.inFlightRequests }
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Sends one request and waits for its answer or its deadline.
    /// - Throws: `invalid_argument` with reason `frame_too_large`, before sending anything, when the request would be
    ///   a frame larger than the server announced it accepts (it would close the connection for it).
    func call(method: WireMethodID, payload: ByteBuffer, timeout: Duration, traceID: WireTraceID) async throws
        -> ByteBuffer
    {
        guard WireFrameHeader.encodedSize + payload.readableBytes <= maxFrameLength else {
            throw WireError(
                .invalidArgument, reason: WireError.frameTooLargeReason,
                "a request of \(payload.readableBytes) bytes exceeds \(endpoint)'s frame limit of \(maxFrameLength)"
            )
        }
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        state.inFlight.add(1, ordering: .relaxed)
        defer { state.inFlight.subtract(1, ordering: .relaxed) }
        let request = WireOutboundRequest(
            method: method, payload: payload, timeout: timeout, traceID: traceID, promise: promise)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.send(request) }
        return try await promise.futureResult.get()
    }

    func close() {
        channel.close(promise: nil)
    }
}
