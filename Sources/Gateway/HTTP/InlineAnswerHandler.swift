import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Wire

/// Answers some requests on the connection's event loop, where NIO's HTTP/1 decoder hands them over: no conversion to
/// HTTP types, none of the handlers above it, no Hummingbird request loop, and one flush for every answer of a read
/// burst.
///
/// Two kinds are answered here:
/// - an ``InlineAnswer`` (`GET /healthz`), the same bytes every time, at once;
/// - a request for an ``InlineRoute`` (`POST /api/v1/tweets`, `GET /api/v1/timelines/home`), read whole (its body at
///   most `maxBodyBytes`, within `requestReadTimeout`) and answered when the route's future completes, in a task that
///   prefers this connection's loop (``EventLoopTaskExecutor``).
///
/// It answers only what it can answer safely, and passes every other request on, unchanged, to the handlers above
/// (limits and deadlines, Hummingbird's connection state and request loop), which answer it through the route table
/// as before. Passed on are: another path or method; for an inline answer, a request with a body; for a route, a
/// chunked body, one without a length within the limit, or one that expects `100 Continue` (the body guard above
/// answers those); one that asks to close the connection (`Connection: close`, or HTTP/1.0 without keep-alive: only
/// HTTP/1.1 is answered here), which Hummingbird honours; one that arrives while an answer from above is still owed
/// on the connection (HTTP/1.1 answers in request order); and one that arrives while the connection's socket is not
/// writable (a client that does not read its answers meets Hummingbird's backpressure and the write deadline, not a
/// growing buffer here).
///
/// While a route's answer is owed, whatever else arrives on the connection is held here, and once something is held no
/// more is read from the socket, until that answer is written; then the held requests are taken in order as if they
/// had just arrived (a decoding error too: Hummingbird's 400 for a malformed request behind it comes after the answer).
/// A graceful shutdown's quiesce event and the client's end of input wait for the answer too, so that the request is
/// finished, not cut.
///
/// Once a request passed on or an answer from above says `Connection: close` (the client asked for it, or an
/// oversized body was refused), nothing more is answered here: the handlers above decide what, if anything, still
/// goes out.
///
/// Answers of one read burst are flushed together, but never more than ``maxAnswersPerFlush`` at a time, so that
/// whether the socket is writable is known again before more are made (a read burst of pipelined requests can hold
/// thousands). A route's answer, which comes later, is flushed at once.
///
/// Since the handlers above never see a request answered here, this handler also keeps the connection's idle timeout
/// (Hummingbird's is off): the connection is closed once nothing has been asked or answered for `idleTimeout`, or,
/// after an answer that closes the connection, once that answer is written and `idleTimeout` has passed (requests
/// pipelined behind it are never answered).
final class InlineAnswerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The most inline answers written before a flush.
    static let maxAnswersPerFlush = 64

    /// What arrived from the decoder while a route's answer was owed: a request's part, or the error that ended
    /// decoding (a malformed request pipelined behind it), which Hummingbird answers only after the route's answer.
    private enum HeldInbound {
        case part(HTTPServerRequestPart)
        case error(any Error)
    }

    /// A route's request taken here: its body being read, then its answer owed.
    private enum Taken {
        case reading(InlineRoute, HTTPRequestHead, body: ByteBuffer)
        case answering
    }

    private let answers: [String: InlineAnswer]
    private let routes: [String: InlineRoute]
    private let maxBodyBytes: Int
    private let metrics: GatewayMetrics
    /// Runs while nothing is asked or answered on the connection.
    private let idleness: ConnectionDeadline
    /// Runs while a route's request is being read.
    private let readDeadline: ConnectionDeadline
    /// Where route tasks run: this connection's loop (made with the first).
    private var taskExecutor: EventLoopTaskExecutor?
    /// Requests passed on whose answer has not been written in full yet.
    private var requestsPassedOn = 0
    /// Whether a passed-on request is still being read (its head came, its end did not).
    private var isReadingPassedOn = false
    /// The inline request being read, with when it began.
    private var answering: (answer: InlineAnswer, isPrivate: Bool, start: ContinuousClock.Instant)?
    /// The route request taken here, until its answer is written.
    private var taken: Taken?
    /// What arrived while a route's answer was owed, in order.
    private var held = CircularBuffer<HeldInbound>()
    /// A read from the socket was asked for while a route's answer was owed and requests were held.
    private var isReadHeld = false
    /// Events from below that wait for a route's request (``mustWait(_:)``), in order.
    private var heldEvents: [Any] = []
    /// An answer said `Connection: close`, or a request passed on asked for it, or shutdown began.
    private var isClosing = false
    /// Inline answers written and not flushed yet.
    private var unflushedAnswers = 0
    private var date = HTTPDateCache()

    /// - Parameters:
    ///   - answers: the fixed answers, by path.
    ///   - routes: the routes whose requests are read and answered here, by path.
    ///   - limits: the body limit and the idle and read timeouts.
    init(
        answers: [InlineAnswer], routes: [InlineRoute] = [], limits: GatewayConfiguration.Limits,
        metrics: GatewayMetrics, logger: Logger
    ) {
        self.answers = Dictionary(answers.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.routes = Dictionary(routes.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        maxBodyBytes = limits.maxBodyBytes
        self.metrics = metrics
        idleness = ConnectionDeadline(timeout: TimeAmount(limits.idleTimeout)) { context in
            context.close(promise: nil)
        }
        readDeadline = .requestRead(limits: limits, logger: logger)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            idleness.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        idleness.start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleness.cancel()
        readDeadline.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleness.cancel()
        readDeadline.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if isAnswering {
            held.append(.part(part))
        } else {
            take(part, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isAnswering {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushAnswers(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        // Held only once something arrived behind the answer: a client that waits for its answer costs no change of
        // the socket's read interest (an epoll_ctl each way for every request, 2 % of the Gateway's CPU, measured).
        if isAnswering && !held.isEmpty {
            isReadHeld = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            isClosing = true
        }
        if mustWait(event) {
            heldEvents.append(event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Whether `event` must wait for the route's request under way: a graceful shutdown waits until the request is
    /// answered, anything else (the client's end of input, say) while its answer is owed, so that the handlers above,
    /// which see nothing of the request, do not close the connection under it.
    private func mustWait(_ event: Any) -> Bool {
        event is ChannelShouldQuiesceEvent ? taken != nil : isAnswering
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        switch unwrapOutboundIn(data) {
        case .head(let head) where !head.isKeepAlive:
            isClosing = true
        case .end:
            // Never below zero: Hummingbird also answers a request it could not parse, which was never passed on.
            requestsPassedOn = max(0, requestsPassedOn - 1)
            becomeIdleIfDone(context: context)
        case .head, .body:
            break
        }
    }

    private var isAnswering: Bool {
        if case .answering = taken { true } else { false }
    }

    /// Handles one request part that is not held.
    private func take(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            idleness.finish()
            let path = Self.path(of: head)
            if let answer = inlineAnswer(for: head, path: path, context: context) {
                metrics.requestStarted()
                answering = (answer, head.headers.contains(name: "authorization"), ContinuousClock.now)
            } else if let route = inlineRoute(for: head, path: path, context: context) {
                taken = .reading(route, head, body: context.channel.allocator.buffer(capacity: 0))
                readDeadline.start(context: context)
            } else {
                requestsPassedOn += 1
                isReadingPassedOn = true
                isClosing = isClosing || !head.isKeepAlive  // Hummingbird closes after answering it
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body(var bytes):
            if case .reading(let route, let head, var body) = taken {
                // Never past maxBodyBytes: the decoder keeps to Content-Length. A body in one part is not copied.
                if body.readableBytes == 0 {
                    body = bytes
                } else {
                    taken = nil  // so that the body is appended to in place
                    body.writeBuffer(&bytes)
                }
                taken = .reading(route, head, body: body)
            } else {
                context.fireChannelRead(wrapInboundOut(part))  // a passed-on request's body
            }
        case .end:
            if let (answer, isPrivate, start) = answering {
                answering = nil
                write(answer, isPrivate: isPrivate, context: context)
                metrics.requestFinished(
                    route: answer.path, method: "GET", status: Int(answer.status.code),
                    duration: ContinuousClock.now - start)
                becomeIdleIfDone(context: context)
            } else if case .reading(let route, let head, let body) = taken {
                readDeadline.finish()
                taken = .answering
                respond(
                    route, to: InlineRequest(head: head, body: body, remoteAddress: context.channel.remoteAddress),
                    context: context)
            } else {
                isReadingPassedOn = false
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    /// Whether a request can be answered here at all: nothing is owed above, nothing asks to close, the socket takes
    /// writes.
    private func isAnswerableHere(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Bool {
        requestsPassedOn == 0 && !isClosing && head.version == .http1_1 && head.isKeepAlive
            && context.channel.isWritable && !head.headers.contains(name: "transfer-encoding")
    }

    private func inlineAnswer(
        for head: HTTPRequestHead, path: String, context: ChannelHandlerContext
    ) -> InlineAnswer? {
        guard head.method == .GET, let answer = answers[path], isAnswerableHere(head, context: context),
            head.headers.first(name: "content-length").map({ $0 == "0" }) ?? true
        else { return nil }
        return answer
    }

    private func inlineRoute(for head: HTTPRequestHead, path: String, context: ChannelHandlerContext) -> InlineRoute? {
        guard let route = routes[path], head.method == route.method,
            isAnswerableHere(head, context: context), !head.headers.contains(name: "expect"),
            let length = Int(head.headers.first(name: "content-length") ?? "0"), (0...maxBodyBytes).contains(length)
        else { return nil }
        return route
    }

    /// The path a request names: its target without the query.
    private static func path(of head: HTTPRequestHead) -> String {
        let target = head.uri
        return target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    private func respond(_ route: InlineRoute, to request: InlineRequest, context: ChannelHandlerContext) {
        let executor = taskExecutor ?? EventLoopTaskExecutor(eventLoop: context.eventLoop)
        taskExecutor = executor
        route.respond(request, executor).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let response):
                self.taken = nil
                self.write(response, context: context)
                self.flushAnswers(context: context)
                self.becomeIdleIfDone(context: context)
                self.takeHeld(context: context)
            case .failure:
                context.close(promise: nil)
            }
        }
    }

    /// Takes what arrived while a route's answer was owed, as if it arrived now, until another route's answer is
    /// owed; then lets the quiesce event and the socket's reads through again if nothing is owed.
    private func takeHeld(context: ChannelHandlerContext) {
        if !held.isEmpty {
            while !isAnswering, let inbound = held.popFirst() {
                switch inbound {
                case .part(let part): take(part, context: context)
                case .error(let error): context.fireErrorCaught(error)
                }
            }
            flushAnswers(context: context)
            context.fireChannelReadComplete()
        }
        guard !isAnswering else { return }
        if !heldEvents.isEmpty {
            let events = heldEvents
            heldEvents = events.filter(mustWait)
            for event in events where !mustWait(event) {
                context.fireUserInboundEventTriggered(event)
            }
        }
        if isReadHeld {
            isReadHeld = false
            context.read()
        }
    }

    private func becomeIdleIfDone(context: ChannelHandlerContext) {
        if requestsPassedOn == 0 || isClosing, answering == nil, taken == nil, !isReadingPassedOn,
            context.channel.isActive
        {
            idleness.start(context: context)
        }
    }

    private func write(_ answer: InlineAnswer, isPrivate: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([
            ("Content-Type", answer.contentType),
            (GatewayResponder.requestIDField.rawName, WireTraceID.random().description),
        ])
        for (name, value) in SecurityHeaders.onEveryAnswer {
            headers.add(name: name.rawName, value: value)
        }
        if isPrivate {
            headers.add(name: HTTPFields.Element.Name.cacheControl.rawName, value: "no-store")
        }
        write(InlineResponse(status: answer.status, headers: headers, body: answer.body), context: context)
    }

    private func write(_ response: InlineResponse, context: ChannelHandlerContext) {
        var headers = response.headers
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "Date", value: date.now())
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        unflushedAnswers += 1
        if unflushedAnswers >= Self.maxAnswersPerFlush {
            flushAnswers(context: context)
        }
    }

    private func flushAnswers(context: ChannelHandlerContext) {
        if unflushedAnswers > 0 {
            unflushedAnswers = 0
            context.flush()
        }
    }
}
