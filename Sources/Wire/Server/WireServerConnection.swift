import Logging
import Metrics
import NIOCore
import Synchronization

/// One accepted connection: the authenticated handshake, then requests dispatched concurrently and answered in any
/// order, each only if the caller's role may call its method.
final class WireServerConnection: Sendable {
    private let channel: NIOAsyncChannel<WireFrame, WireFrame>
    private let router: WireRouter
    private let configuration: WireServerConfiguration
    private let refusals: HandshakeRefusalLog
    private let peer: String
    private let logger: Logger
    private let inFlight = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    private let handshakeDone = Atomic<Bool>(false)
    private let highestRequestID = Atomic<UInt64>(0)
    private let serverInFlight: SharedAtomic<Int>
    /// Answers finishing in the same event-loop turn share one flush.
    private let writer: CoalescingWriter

    init(
        channel: NIOAsyncChannel<WireFrame, WireFrame>,
        router: WireRouter,
        configuration: WireServerConfiguration,
        serverInFlight: SharedAtomic<Int>,
        refusals: HandshakeRefusalLog,
        logger: Logger
    ) {
        self.channel = channel
        self.router = router
        self.configuration = configuration
        self.serverInFlight = serverInFlight
        self.refusals = refusals
        writer = CoalescingWriter(channel: channel.channel)
        peer = channel.channel.remoteAddress?.description ?? "?"
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
    }

    var inFlightRequests: Int { inFlight.load(ordering: .relaxed) }

    /// Serves until the peer closes, breaks the protocol, or the connection drains.
    func run() async {
        closeIfNotAuthenticated(within: configuration.handshakeTimeout)
        do {
            try await channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                let role: WirePeerRole
                do {
                    guard let authenticated = try await authenticate(&frames, outbound: outbound) else { return }
                    role = authenticated
                } catch let error as WireError {
                    refusals.record(error, peer: peer, logger: logger)
                    try await outbound.write(errorFrame(for: WireFrameHeader(kind: .error), error))
                    return
                }
                var logger = self.logger
                logger[metadataKey: "caller"] = "\(role)"
                do {
                    try await withThrowingDiscardingTaskGroup { group in
                        while let frame = try await frames.next() {
                            try await dispatch(frame, role: role, logger: logger, outbound: outbound, group: &group)
                        }
                    }
                } catch let error as WireError {
                    // Say why before closing, so that the peer's logs show it too.
                    logger.warning("closing connection that broke the protocol", metadata: ["error": "\(error)"])
                    try await outbound.write(errorFrame(for: WireFrameHeader(kind: .error), error))
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the connection at once, requests in flight or not.
    func close() {
        channel.channel.close(promise: nil)
    }

    /// Stops taking requests: sends `goAway`, lets running requests finish, then closes.
    func drain(reason: String) {
        guard !draining.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let goAway = WireGoAway(lastRequestID: highestRequestID.load(ordering: .relaxed), reason: reason)
        let frame = WireFrame(header: WireFrameHeader(kind: .goAway), payload: goAway.payload())
        channel.channel.writeAndFlush(frame).whenComplete { _ in
            if self.inFlight.load(ordering: .sequentiallyConsistent) == 0 {
                self.channel.channel.close(promise: nil)
            }
        }
    }

    /// The handshake: `hello` → `challenge` → `authenticate` → `helloAck`. Returns the caller's proven role, or `nil`
    /// when the peer closed first. Nothing but the handshake is read until the proof checks out: a request sent
    /// earlier ends the connection.
    /// - Throws: ``WireError`` for a refused handshake: `unauthenticated` (`proof_missing`, `wrong_service_key`,
    ///   `unknown_role`), `invalid_argument` (`handshake_required`, `unsupported_version`, `invalid_nonce`).
    private func authenticate(
        _ frames: inout NIOAsyncChannelInboundStream<WireFrame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<WireFrame>
    ) async throws -> WirePeerRole? {
        guard let helloFrame = try await frames.next() else { return nil }
        guard helloFrame.header.kind == .hello else {
            throw WireError.protocolViolation(
                "handshake_required", "the first frame must be hello, not \(helloFrame.header.kind)")
        }
        let hello = try WireHello(payload: helloFrame.payload)
        let version = WireFrameHeader.currentVersion
        guard hello.minVersion <= version, version <= hello.maxVersion else {
            throw WireError.protocolViolation(
                "unsupported_version",
                "client speaks versions \(hello.minVersion)...\(hello.maxVersion), server speaks \(version)"
            )
        }
        guard let role = WirePeerRole(rawValue: hello.role) else {
            throw WireError(.unauthenticated, reason: "unknown_role", "no such role: \(hello.role.prefix(64))")
        }
        guard hello.nonce.readableBytes == HandshakeProof.nonceLength else {
            throw WireError.protocolViolation("invalid_nonce", "a nonce has \(HandshakeProof.nonceLength) bytes")
        }
        let serverNonce = HandshakeProof.makeNonce()
        try await outbound.write(
            WireFrame(header: WireFrameHeader(kind: .challenge), payload: WireChallenge(nonce: serverNonce).payload()))

        guard let proofFrame = try await frames.next() else { return nil }
        guard proofFrame.header.kind == .authenticate else {
            throw WireError(
                .unauthenticated, reason: "proof_missing", "expected authenticate, got \(proofFrame.header.kind)")
        }
        let proof = try WireAuthenticate(payload: proofFrame.payload).proof
        guard
            let key = HandshakeProof.keyThatMade(
                proof, .client, keys: configuration.keys, clientNonce: hello.nonce, serverNonce: serverNonce,
                role: hello.role
            )
        else {
            throw WireError(
                .unauthenticated, reason: "wrong_service_key", "the proof does not match this cluster's service key")
        }
        handshakeDone.store(true, ordering: .relaxed)
        let ack = WireHelloAck(
            version: version,
            serverName: configuration.serverName,
            maxFrameLength: UInt32(configuration.maxFrameLength),
            maxInFlightRequests: UInt32(configuration.maxInFlightRequestsPerConnection),
            proof: HandshakeProof.proof(
                .server, key: key, clientNonce: hello.nonce, serverNonce: serverNonce, role: hello.role)
        )
        try await outbound.write(WireFrame(header: WireFrameHeader(kind: .helloAck), payload: ack.payload()))
        logger.debug("handshake done", metadata: ["caller": "\(role)"])
        return role
    }

    private func dispatch(
        _ frame: WireFrame,
        role: WirePeerRole,
        logger: Logger,
        outbound: NIOAsyncChannelOutboundWriter<WireFrame>,
        group: inout ThrowingDiscardingTaskGroup<any Error>
    ) async throws {
        let header = frame.header
        switch header.kind {
        case .request:
            highestRequestID.store(max(highestRequestID.load(ordering: .relaxed), header.requestID), ordering: .relaxed)
            let running = inFlight.add(1, ordering: .sequentiallyConsistent).newValue
            if draining.load(ordering: .sequentiallyConsistent) {
                finishRequest()
                try await outbound.write(
                    errorFrame(for: header, WireError(.unavailable, reason: "going_away", "server is shutting down")))
            } else if running > configuration.maxInFlightRequestsPerConnection {
                finishRequest()
                let error = WireError(
                    .resourceExhausted, reason: "too_many_requests",
                    "more than \(configuration.maxInFlightRequestsPerConnection) requests in flight on one connection"
                )
                try await outbound.write(errorFrame(for: header, error))
            } else {
                serverInFlight.value.add(1, ordering: .relaxed)
                group.addTask {
                    await self.serve(frame, role: role, logger: logger)
                    self.serverInFlight.value.subtract(1, ordering: .relaxed)
                    self.finishRequest()
                }
            }
        case .ping:
            try await outbound.write(
                WireFrame(header: WireFrameHeader(kind: .pong, requestID: header.requestID), payload: frame.payload))
        case .pong:
            break
        case .goAway:
            logger.debug("client sent goAway")
        case .hello, .helloAck, .challenge, .authenticate, .response, .error:
            throw WireError.protocolViolation("unexpected_frame", "a client must not send \(header.kind) frames")
        }
    }

    /// Runs the handler against the request's deadline: whichever ends first answers, and the deadline cancels the
    /// handler.
    private func serve(
        _ frame: WireFrame,
        role: WirePeerRole,
        logger: Logger
    ) async {
        let header = frame.header
        guard let route = router.route(for: header.method) else {
            await send(
                errorFrame(
                    for: header, WireError(.invalidArgument, reason: "unknown_method", "no method \(header.method)"))
            )
            return
        }
        guard route.callers.allows(role) else {
            logger.notice("refused a method to a role that may not call it", metadata: ["method": "\(route.name)"])
            await send(
                errorFrame(
                    for: header,
                    WireError(.permissionDenied, reason: "role_not_allowed", "\(role) may not call \(route.name)"))
            )
            return
        }
        let timeout =
            header.timeoutMillis > 0
            ? min(configuration.maxRequestTimeout, .milliseconds(header.timeoutMillis))
            : configuration.maxRequestTimeout
        let start = ContinuousClock.now
        var requestLogger = logger
        requestLogger[metadataKey: "trace_id"] = "\(header.traceID)"
        requestLogger[metadataKey: "method"] = "\(route.name)"
        let logger = requestLogger
        let context = WireRequestContext(
            traceID: header.traceID, deadline: start + timeout, callerRole: role, logger: logger)
        let answered = SharedAtomic<Bool>(false)

        // The handler runs in a task of its own that the deadline can cancel; the deadline is a timer on the
        // connection's event loop, not a sleeping task, so a request costs this task and the handler's.
        let handler = Task {
            try await WireTraceID.$current.withValue(header.traceID) {
                try await route.handler(frame.payload, context)
            }
        }
        let eventLoop = channel.channel.eventLoop
        let deadline = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            handler.cancel()
            if !answered.value.exchange(true, ordering: .relaxed) {
                logger.notice("request passed its deadline", metadata: ["timeout": "\(timeout)"])
                self.writer.write(self.errorFrame(for: header, .deadlineExceeded), promise: nil)
            }
        }
        let outcome = await withTaskCancellationHandler {
            await handler.result
        } onCancel: {
            handler.cancel()
        }
        deadline.cancel()
        if let reply = reply(to: header, outcome, logger: logger), !answered.value.exchange(true, ordering: .relaxed) {
            await send(reply)
        }
        route.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    }

    /// The frame that answers `header` with the handler's outcome; `nil` when the handler was cancelled (the
    /// deadline has answered, or the connection is going).
    private func reply(to header: WireFrameHeader, _ outcome: Result<ByteBuffer, any Error>, logger: Logger)
        -> WireFrame?
    {
        switch outcome {
        case .success(let payload):
            guard WireFrameHeader.encodedSize + payload.readableBytes <= configuration.maxFrameLength else {
                // Sent, it would cost the client its connection (and every request on it): an error instead.
                logger.error("answer over the frame limit", metadata: ["bytes": "\(payload.readableBytes)"])
                return errorFrame(
                    for: header,
                    WireError(
                        .resourceExhausted, reason: "response_too_large", "the answer is larger than a frame may be")
                )
            }
            return WireFrame(
                header: WireFrameHeader(
                    kind: .response, requestID: header.requestID, method: header.method, traceID: header.traceID),
                payload: payload
            )
        case .failure(let error as WireError):
            return errorFrame(for: header, error)
        case .failure(is CancellationError):
            return nil
        case .failure(let error):
            logger.error("handler failed", metadata: ["error": "\(error)"])
            return errorFrame(for: header, WireError(.internal, "internal error"))
        }
    }

    /// Writes an answer and waits until it is flushed, so that a draining connection closes only after its last
    /// answer has left. (The async writer would only queue it.) A failed write means the peer is gone.
    private func send(_ frame: WireFrame) async {
        let written = channel.channel.eventLoop.makePromise(of: Void.self)
        writer.write(frame, promise: written)
        try? await written.futureResult.get()
    }

    private func finishRequest() {
        let remaining = inFlight.subtract(1, ordering: .sequentiallyConsistent).newValue
        if remaining == 0, draining.load(ordering: .sequentiallyConsistent) {
            channel.channel.close(promise: nil)
        }
    }

    private func errorFrame(for header: WireFrameHeader, _ error: WireError) -> WireFrame {
        if error.code != .deadlineExceeded {
            Counter(label: "wire_server_errors_total", dimensions: [("code", "\(error.code)")]).increment()
        }
        return WireFrame(
            header: WireFrameHeader(
                kind: .error, requestID: header.requestID, method: header.method, traceID: header.traceID),
            payload: WireErrorPayload(error).payload()
        )
    }

    private func closeIfNotAuthenticated(within timeout: Duration) {
        let channel = self.channel.channel
        channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            if !self.handshakeDone.load(ordering: .relaxed) {
                self.refusals.record(
                    WireError(.unauthenticated, reason: "handshake_timeout", "no completed handshake in \(timeout)"),
                    peer: self.peer, logger: self.logger
                )
                channel.close(promise: nil)
            }
        }
    }
}
