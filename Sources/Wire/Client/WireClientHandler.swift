import Logging
import NIOCore

/// A request on its way out: what to send and the promise that its answer completes.
struct WireOutboundRequest {
    var method: WireMethodID
    var payload: ByteBuffer
    var timeout: Duration
    var traceID: WireTraceID
    var promise: EventLoopPromise<ByteBuffer>
}

/// The client side of one connection, on its event loop: the authenticated handshake, then numbers requests, matches
/// answers to them in any order, fails each one at its deadline, and fails them all when the connection goes.
///
/// Requests reach it through ``send(_:)`` on its event loop, not through the pipeline: a request on a connection that
/// has closed fails at once, and no write promise is needed per request. Requests sent in one event-loop turn share
/// one flush, and the deadlines of all pending requests share one timer. It reads and writes the connection's bytes
/// itself (``InboundFrames``): no decoder or encoder handler sits in front of it.
final class WireClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var handshake: ClientHandshake
    private var inbound: InboundFrames
    /// Completed by the server's `helloAck` once its proof checks out.
    private let completion: EventLoopPromise<WireHelloAck>
    private let state: WireClientConnectionState
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var pending: [UInt64: EventLoopPromise<ByteBuffer>] = [:]
    private var deadlines = RequestDeadlines<UInt64>()
    private var nextRequestID: UInt64 = 1
    private var maxInFlight = Int.max
    private var closed = false
    private let endOfTurnFlush = EndOfTurnFlush()

    init(
        handshake: ClientHandshake, completion: EventLoopPromise<WireHelloAck>, state: WireClientConnectionState,
        maxFrameLength: Int = WireFrame.defaultMaxLength, logger: Logger
    ) {
        self.handshake = handshake
        inbound = InboundFrames(maxFrameLength: maxFrameLength)
        self.completion = completion
        self.state = state
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failEverything(WireError.unavailable("the connection closed"))
        self.context = nil
    }

    /// Sends one request; its promise completes with the answer, the server's error, `deadline_exceeded`, or
    /// `unavailable` when the connection goes first. Call it on the channel's event loop.
    func send(_ request: WireOutboundRequest) {
        guard let context, !closed else {
            request.promise.fail(WireError.unavailable("the connection closed"))
            return
        }
        guard pending.count < maxInFlight else {
            request.promise.fail(
                WireError(
                    .resourceExhausted, reason: "too_many_requests",
                    "the connection has \(maxInFlight) requests in flight"))
            return
        }
        let requestID = nextRequestID
        nextRequestID += 1
        pending[requestID] = request.promise
        let eventLoop = context.eventLoop
        deadlines.track(requestID, until: eventLoop.now + TimeAmount(request.timeout)) { deadline in
            eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.expireRequests() }
        }
        let header = WireFrameHeader(
            kind: .request, requestID: requestID, method: request.method,
            timeoutMillis: max(request.timeout.clampedMilliseconds, 1), traceID: request.traceID
        )
        context.write(context.wireBytes(WireFrame(header: header, payload: request.payload)), promise: nil)
        flushSoon()
    }

    func channelActive(context: ChannelHandlerContext) {
        let frame = WireFrame(
            header: WireFrameHeader(kind: .hello),
            payload: handshake.hello.payload(allocator: context.channel.allocator))
        context.writeAndFlush(context.wireBytes(frame), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbound.append(unwrapInboundIn(data))
        do {
            while !closed, let frame = try inbound.next() {
                receive(frame, context: context)
            }
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    private func receive(_ frame: WireFrame, context: ChannelHandlerContext) {
        let header = frame.header
        switch header.kind {
        case .response:
            complete(header.requestID, with: .success(frame.payload))
        case .error:
            let error =
                (try? WireErrorPayload(payload: frame.payload).error)
                ?? WireError(.internal, reason: "malformed_error", "the server sent an unreadable error frame")
            if header.requestID == 0 {
                logger.warning("server reported a connection error", metadata: ["error": "\(error)"])
                completion.fail(error)
                context.close(promise: nil)
            } else {
                complete(header.requestID, with: .failure(error))
            }
        case .challenge:
            do {
                let proof = try handshake.answer(try WireChallenge(payload: frame.payload))
                let frame = WireFrame(
                    header: WireFrameHeader(kind: .authenticate),
                    payload: proof.payload(allocator: context.channel.allocator))
                context.writeAndFlush(context.wireBytes(frame), promise: nil)
            } catch {
                completion.fail(error)
                context.close(promise: nil)
            }
        case .helloAck:
            do {
                let ack = try WireHelloAck(payload: frame.payload)
                try handshake.verify(ack)
                maxInFlight = Int(ack.maxInFlightRequests)
                completion.succeed(ack)
            } catch {
                logger.warning("refusing a server that failed the handshake", metadata: ["error": "\(error)"])
                completion.fail(error)
                context.close(promise: nil)
            }
        case .ping:
            let pong = WireFrame(
                header: WireFrameHeader(kind: .pong, requestID: header.requestID), payload: frame.payload)
            context.writeAndFlush(context.wireBytes(pong), promise: nil)
        case .pong:
            break
        case .goAway:
            let reason = (try? WireGoAway(payload: frame.payload).reason) ?? ""
            logger.info("server sent goAway", metadata: ["reason": "\(reason)"])
            state.markDraining()
        case .hello, .request, .authenticate:
            logger.warning("server sent a \(header.kind) frame; closing")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failEverything(WireError.unavailable("the connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("closing connection after error", metadata: ["error": "\(error)"])
        completion.fail(error)
        context.close(promise: nil)
    }

    private func complete(_ requestID: UInt64, with result: Result<ByteBuffer, any Error>) {
        guard let promise = pending.removeValue(forKey: requestID) else { return }
        deadlines.forget(requestID)
        promise.completeWith(result)
    }

    /// The deadline timer fired: every request past its deadline fails with `deadline_exceeded`.
    private func expireRequests() {
        guard let eventLoop = context?.eventLoop else { return }
        let due = deadlines.expire(at: eventLoop.now) { deadline in
            eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.expireRequests() }
        }
        for requestID in due {
            pending.removeValue(forKey: requestID)?.fail(WireError.deadlineExceeded)
        }
    }

    /// One flush at the end of this event-loop turn for every request written in it.
    private func flushSoon() {
        guard let context else { return }
        endOfTurnFlush.request(on: context.eventLoop) { self.context }
    }

    private func failEverything(_ error: WireError) {
        guard !closed else { return }
        closed = true
        completion.fail(error)
        deadlines.cancelAll()
        let failed = pending
        pending.removeAll()
        for (_, promise) in failed {
            promise.fail(error)
        }
    }
}
