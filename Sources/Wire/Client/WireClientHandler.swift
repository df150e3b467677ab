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
final class WireClientHandler: ChannelDuplexHandler {
    typealias InboundIn = WireFrame
    typealias OutboundIn = WireOutboundRequest
    typealias OutboundOut = WireFrame

    private struct Pending {
        var promise: EventLoopPromise<ByteBuffer>
        var timeout: Scheduled<Void>
    }

    private var handshake: ClientHandshake
    /// Completed by the server's `helloAck` once its proof checks out.
    private let completion: EventLoopPromise<WireHelloAck>
    private let state: WireClientConnectionState
    private let logger: Logger
    private var pending: [UInt64: Pending] = [:]
    private var nextRequestID: UInt64 = 1
    private var maxInFlight = Int.max

    init(
        handshake: ClientHandshake, completion: EventLoopPromise<WireHelloAck>, state: WireClientConnectionState,
        logger: Logger
    ) {
        self.handshake = handshake
        self.completion = completion
        self.state = state
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let frame = WireFrame(
            header: WireFrameHeader(kind: .hello),
            payload: handshake.hello.payload(allocator: context.channel.allocator))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
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
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
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
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending.count < maxInFlight else {
            let error = WireError(
                .resourceExhausted, reason: "too_many_requests", "the connection has \(maxInFlight) requests in flight")
            request.promise.fail(error)
            writePromise?.fail(error)
            return
        }
        let requestID = nextRequestID
        nextRequestID += 1
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(request.timeout)) {
            self.complete(requestID, with: .failure(WireError.deadlineExceeded))
        }
        pending[requestID] = Pending(promise: request.promise, timeout: timeout)
        let header = WireFrameHeader(
            kind: .request, requestID: requestID, method: request.method,
            timeoutMillis: max(request.timeout.clampedMilliseconds, 1), traceID: request.traceID
        )
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { error in
            self.complete(requestID, with: .failure(WireError.unavailable("could not send the request: \(error)")))
        }
        // The caller's promise must complete too: whatever waits on it (and everything that captures) is freed only then.
        written.futureResult.cascade(to: writePromise)
        context.write(wrapOutboundOut(WireFrame(header: header, payload: request.payload)), promise: written)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = WireError.unavailable("the connection closed")
        completion.fail(error)
        let failed = pending
        pending.removeAll()
        for (_, request) in failed {
            request.timeout.cancel()
            request.promise.fail(error)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("closing connection after error", metadata: ["error": "\(error)"])
        completion.fail(error)
        context.close(promise: nil)
    }

    private func complete(_ requestID: UInt64, with result: Result<ByteBuffer, any Error>) {
        guard let request = pending.removeValue(forKey: requestID) else { return }
        request.timeout.cancel()
        request.promise.completeWith(result)
    }
}
