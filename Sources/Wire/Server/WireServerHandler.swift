import Logging
import NIOCore

/// One accepted connection, on its event loop: the authenticated handshake, then every request decoded, checked and
/// dispatched where it arrives. It reads and writes the connection's bytes itself (``InboundFrames``): no decoder or
/// encoder handler sits in front of it.
///
/// A handler registered with ``WireRouter/registerInline(_:handler:)`` answers within the read, with no task and no
/// thread hop; any other handler runs in one task of its own, on the same event loop (``EventLoopTaskExecutor``),
/// whose answer comes back to the channel. Answers written during one read burst share one flush, and so do answers
/// from tasks that finish in the same event-loop turn. The deadlines of the requests running in tasks share one
/// timer.
final class WireServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request whose handler runs in a task.
    private struct Running {
        var header: WireFrameHeader
        var route: WireRouter.Route
        var task: Task<Void, Never>
        var start: ContinuousClock.Instant
        /// Set when the deadline has answered: the task's own answer is dropped.
        var answered = false
    }

    private let router: WireRouter
    let configuration: WireServerConfiguration
    private let refusals: HandshakeRefusalLog
    private let serverInFlight: SharedAtomic<Int>
    private let peer: String
    private(set) var logger: Logger
    private var handshake: ServerHandshake
    private var inbound: InboundFrames
    private var role: WirePeerRole?
    private var context: ChannelHandlerContext?
    /// Where handler tasks run: this connection's event loop (set with `context`).
    private var taskExecutor: EventLoopTaskExecutor?
    private var handshakeTimeout: Scheduled<Void>?

    private var running: [UInt64: Running] = [:]
    private var nextTaskNumber: UInt64 = 0
    private var deadlines = RequestDeadlines<UInt64>()
    private var highestRequestID: UInt64 = 0
    private var draining = false
    /// Set once an error frame is on its way out before the close: nothing more is read.
    private var closing = false
    private var closed = false
    private let endOfTurnFlush = EndOfTurnFlush()

    /// Completed once the connection is closed and every task it started has ended.
    let finished: EventLoopPromise<Void>

    init(
        router: WireRouter,
        configuration: WireServerConfiguration,
        serverInFlight: SharedAtomic<Int>,
        refusals: HandshakeRefusalLog,
        peer: String,
        logger: Logger,
        eventLoop: any EventLoop
    ) {
        self.router = router
        self.configuration = configuration
        self.serverInFlight = serverInFlight
        self.refusals = refusals
        self.peer = peer
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        handshake = ServerHandshake(configuration: configuration)
        inbound = InboundFrames(maxFrameLength: configuration.maxFrameLength)
        finished = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        taskExecutor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionEnded()
        self.context = nil
    }

    /// Starts the handshake clock: a peer that has not proven its key by then is closed.
    func startHandshakeClock() {
        guard let context, !closed else { return }
        let timeout = configuration.handshakeTimeout
        handshakeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
            guard self.role == nil else { return }
            self.refusals.record(
                WireError(.unauthenticated, reason: "handshake_timeout", "no completed handshake in \(timeout)"),
                peer: self.peer, logger: self.logger
            )
            self.context?.close(promise: nil)
        }
    }

    /// Stops taking requests: sends `goAway`, lets the running requests finish, then closes.
    func drain(reason: String) {
        guard !draining, let context, !closed else { return }
        draining = true
        let goAway = WireGoAway(lastRequestID: highestRequestID, reason: reason)
        let frame = WireFrame(header: WireFrameHeader(kind: .goAway), payload: goAway.payload())
        context.writeAndFlush(context.wireBytes(frame)).assumeIsolated().whenComplete { _ in
            self.closeIfDrained()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        inbound.append(unwrapInboundIn(data))
        do {
            while !closing, !closed, let frame = try inbound.next() {
                receive(frame, context: context)
            }
        } catch {
            refuseFraming(error, context: context)
        }
    }

    private func receive(_ frame: WireFrame, context: ChannelHandlerContext) {
        guard let role else {
            receiveHandshake(frame, context: context)
            return
        }
        let header = frame.header
        switch header.kind {
        case .request:
            highestRequestID = max(highestRequestID, header.requestID)
            receiveRequest(frame, role: role, context: context)
        case .ping:
            write(WireFrame(header: WireFrameHeader(kind: .pong, requestID: header.requestID), payload: frame.payload))
        case .pong:
            break
        case .goAway:
            logger.debug("client sent goAway")
        case .hello, .helloAck, .challenge, .authenticate, .response, .error:
            closeForViolation(
                WireError.protocolViolation("unexpected_frame", "a client must not send \(header.kind) frames"),
                context: context)
        }
    }

    /// Every answer of the read burst leaves with one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded()
        context.fireChannelInactive()
    }

    /// Errors from below (the peer reset the connection, TLS failed) end the connection quietly.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A framing error ends the connection with an error frame that says why.
    private func refuseFraming(_ error: WireError, context: ChannelHandlerContext) {
        if role == nil {
            refusals.record(error, peer: peer, logger: logger)
            closeWithError(error, context: context)
        } else {
            closeForViolation(error, context: context)
        }
    }

    private func receiveHandshake(_ frame: WireFrame, context: ChannelHandlerContext) {
        do {
            switch try handshake.receive(frame) {
            case .challenge(let challenge):
                context.writeAndFlush(context.wireBytes(challenge), promise: nil)
            case .authenticated(let role, let acknowledgement):
                self.role = role
                handshakeTimeout?.cancel()
                logger[metadataKey: "caller"] = "\(role)"
                context.writeAndFlush(context.wireBytes(acknowledgement), promise: nil)
                logger.debug("handshake done")
            }
        } catch {
            refusals.record(error, peer: peer, logger: logger)
            closeWithError(error, context: context)
        }
    }

    private func receiveRequest(_ frame: WireFrame, role: WirePeerRole, context: ChannelHandlerContext) {
        let header = frame.header
        if draining {
            write(errorFrame(for: header, WireError(.unavailable, reason: "going_away", "server is shutting down")))
            return
        }
        guard let route = router.route(for: header.method) else {
            write(
                errorFrame(
                    for: header, WireError(.invalidArgument, reason: "unknown_method", "no method \(header.method)")))
            return
        }
        guard route.callers.allows(role) else {
            logger.notice("refused a method to a role that may not call it", metadata: ["method": "\(route.name)"])
            write(
                errorFrame(
                    for: header,
                    WireError(.permissionDenied, reason: "role_not_allowed", "\(role) may not call \(route.name)")))
            return
        }
        let start = ContinuousClock.now
        let timeout =
            header.timeoutMillis > 0
            ? min(configuration.maxRequestTimeout, .milliseconds(header.timeoutMillis))
            : configuration.maxRequestTimeout
        let requestContext = WireRequestContext(
            traceID: header.traceID, deadline: start + timeout, callerRole: role, methodName: route.name,
            connectionLogger: logger
        )
        switch route.handler {
        case .inline(let handler):
            let outcome: Result<ByteBuffer, any Error>
            do {
                outcome = .success(
                    try WireTraceID.$current.withValue(header.traceID) { try handler(frame.payload, requestContext) })
            } catch {
                outcome = .failure(error)
            }
            if let reply = reply(to: header, outcome, method: route.name) {
                write(reply)
            }
            route.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        case .async(let handler):
            guard running.count < configuration.maxInFlightRequestsPerConnection else {
                let error = WireError(
                    .resourceExhausted, reason: "too_many_requests",
                    "more than \(configuration.maxInFlightRequestsPerConnection) requests in flight on one connection"
                )
                write(errorFrame(for: header, error))
                return
            }
            startTask(
                handler, frame: frame, route: route, requestContext: requestContext, start: start, timeout: timeout)
        }
    }

    /// Runs an async handler in a task of its own; its outcome comes back to this event loop (``finish(_:_:)``).
    private func startTask(
        _ handler: @escaping @Sendable (ByteBuffer, WireRequestContext) async throws -> ByteBuffer,
        frame: WireFrame,
        route: WireRouter.Route,
        requestContext: WireRequestContext,
        start: ContinuousClock.Instant,
        timeout: Duration
    ) {
        guard let context else { return }
        let number = nextTaskNumber
        nextTaskNumber += 1
        let eventLoop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        let payload = frame.payload
        let traceID = frame.header.traceID
        serverInFlight.value.add(1, ordering: .relaxed)
        // The outcome is handed back with `execute`, which runs after this read: the entry below is in place by then.
        // The task runs on this connection's loop too (no hop to the cooperative pool and back).
        let task = Task(executorPreference: taskExecutor) {
            let outcome: Result<ByteBuffer, any Error>
            do {
                outcome = .success(
                    try await WireTraceID.$current.withValue(traceID) { try await handler(payload, requestContext) })
            } catch {
                outcome = .failure(error)
            }
            eventLoop.execute { this.value.finish(number, outcome) }
        }
        running[number] = Running(header: frame.header, route: route, task: task, start: start)
        deadlines.track(number, until: eventLoop.now + TimeAmount(timeout)) {
            armDeadlineTimer(at: $0, eventLoop: eventLoop)
        }
    }

    /// A task ended: its answer goes out unless the deadline answered first.
    private func finish(_ number: UInt64, _ outcome: Result<ByteBuffer, any Error>) {
        serverInFlight.value.subtract(1, ordering: .relaxed)
        guard let request = running.removeValue(forKey: number) else { return }
        var lastAnswer: EventLoopFuture<Void>?
        if !request.answered {
            deadlines.forget(number)
            if let reply = reply(to: request.header, outcome, method: request.route.name), let context, !closed {
                if draining {
                    // The connection closes once this is written: flush it now and close only after it has left.
                    lastAnswer = context.writeAndFlush(context.wireBytes(reply))
                } else {
                    context.write(context.wireBytes(reply), promise: nil)
                    flushSoon()
                }
            }
        }
        request.route.duration.recordNanoseconds((ContinuousClock.now - request.start).nanoseconds)
        if let lastAnswer {
            lastAnswer.assumeIsolated().whenComplete { _ in self.closeIfDrained() }
        } else {
            closeIfDrained()
        }
        if closed, running.isEmpty {
            finished.succeed()
        }
    }

    private func armDeadlineTimer(at deadline: NIODeadline, eventLoop: any EventLoop) -> Scheduled<Void> {
        eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.expireRequests() }
    }

    /// The deadline timer fired: every request past its deadline is answered `deadline_exceeded` and its task
    /// cancelled.
    private func expireRequests() {
        guard let context else { return }
        let eventLoop = context.eventLoop
        let due = deadlines.expire(at: eventLoop.now) { armDeadlineTimer(at: $0, eventLoop: eventLoop) }
        for number in due {
            guard var request = running[number], !request.answered else { continue }
            request.answered = true
            running[number] = request
            request.task.cancel()
            logger.notice(
                "request passed its deadline",
                metadata: ["method": "\(request.route.name)", "trace_id": "\(request.header.traceID)"])
            write(errorFrame(for: request.header, .deadlineExceeded))
        }
        if !due.isEmpty {
            context.flush()
        }
    }

    func write(_ frame: WireFrame) {
        guard let context, !closed else { return }
        context.write(context.wireBytes(frame), promise: nil)
    }

    /// One flush at the end of this event-loop turn for every answer written in it.
    private func flushSoon() {
        guard let context else { return }
        endOfTurnFlush.request(on: context.eventLoop) { self.context }
    }

    private func closeIfDrained() {
        if draining, running.isEmpty, !closed {
            context?.close(promise: nil)
        }
    }

    /// The connection broke the protocol after the handshake: say why before closing, so that the peer's logs show
    /// it too.
    private func closeForViolation(_ error: WireError, context: ChannelHandlerContext) {
        logger.warning("closing connection that broke the protocol", metadata: ["error": "\(error)"])
        closeWithError(error, context: context)
    }

    private func closeWithError(_ error: WireError, context: ChannelHandlerContext) {
        guard !closed, !closing else { return }
        closing = true
        context.writeAndFlush(context.wireBytes(errorFrame(for: WireFrameHeader(kind: .error), error)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The channel closed: running handlers are cancelled (nobody can receive their answers), and ``finished``
    /// completes once they have ended.
    private func connectionEnded() {
        guard !closed else { return }
        closed = true
        handshakeTimeout?.cancel()
        deadlines.cancelAll()
        for request in running.values {
            request.task.cancel()
        }
        if running.isEmpty {
            finished.succeed()
        }
    }
}
