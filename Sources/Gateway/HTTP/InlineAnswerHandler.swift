import Hummingbird
import NIOCore
import NIOHTTP1
import Wire

/// An answer that needs neither a service nor a suspension: the same bytes every time (`GET /healthz`).
struct InlineAnswer: Sendable {
    /// The route template it answers, as metrics label it.
    let path: String
    let status: HTTPResponseStatus
    let contentType: String
    let body: ByteBuffer

    /// `GET /healthz`: the process is up and its event loops answer. The same answer as the route of that name.
    static let health = InlineAnswer(
        path: "/healthz", status: .ok, contentType: "application/json", body: StatusJSON.healthy.jsonBuffer)
}

/// Answers `GET` requests for an ``InlineAnswer`` on the connection's event loop, where NIO's HTTP/1 decoder hands
/// them over: no task, no conversion to HTTP types, none of the handlers above it, and one flush for every answer of
/// a read burst.
///
/// It answers only what it can answer at once and safely, and passes every other request on, unchanged, to the
/// handlers above (limits and deadlines, Hummingbird's connection state and request loop), which answer it through
/// the route table as before. Passed on are: another path or method; a request with a body (the body limit and the
/// read deadline above apply to it); one that asks to close the connection (`Connection: close`, or HTTP/1.0 without
/// keep-alive: only HTTP/1.1 is answered here), which Hummingbird honours; one that arrives while an answer is still
/// owed on the connection (HTTP/1.1 answers in request order); and one that arrives while the connection's socket is
/// not writable (a client that does not read its answers meets Hummingbird's backpressure and the write deadline, not
/// a growing buffer here).
///
/// Once a request passed on or an answer from above says `Connection: close` (the client asked for it, or an
/// oversized body was refused), nothing more is answered inline: the handlers above decide what, if anything, still
/// goes out.
///
/// Answers of one read burst are flushed together, but never more than ``maxAnswersPerFlush`` at a time, so that
/// whether the socket is writable is known again before more are made (a read burst of pipelined requests can hold
/// thousands).
///
/// Since the handlers above never see an inline request, this handler also keeps the connection's idle timeout
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

    private let answers: [String: InlineAnswer]
    private let metrics: GatewayMetrics
    /// Runs while nothing is asked or answered on the connection.
    private let idleness: ConnectionDeadline
    /// Requests passed on whose answer has not been written in full yet.
    private var requestsPassedOn = 0
    /// Whether a passed-on request is still being read (its head came, its end did not).
    private var isReadingPassedOn = false
    /// The inline request being read, with when it began.
    private var answering: (answer: InlineAnswer, isPrivate: Bool, start: ContinuousClock.Instant)?
    /// An answer said `Connection: close`, or a request passed on asked for it.
    private var isClosing = false
    /// Inline answers written and not flushed yet.
    private var unflushedAnswers = 0
    private var date = HTTPDateCache()

    init(answers: [InlineAnswer], idleTimeout: TimeAmount, metrics: GatewayMetrics) {
        self.answers = Dictionary(answers.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.metrics = metrics
        idleness = ConnectionDeadline(timeout: idleTimeout) { context in context.close(promise: nil) }
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
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleness.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            idleness.finish()
            if let answer = inlineAnswer(for: head, context: context) {
                metrics.requestStarted()
                answering = (answer, head.headers.contains(name: "authorization"), ContinuousClock.now)
            } else {
                requestsPassedOn += 1
                isReadingPassedOn = true
                isClosing = isClosing || !head.isKeepAlive  // Hummingbird closes after answering it
                context.fireChannelRead(data)
            }
        case .body:
            context.fireChannelRead(data)  // only a passed-on request has a body
        case .end:
            if let (answer, isPrivate, start) = answering {
                answering = nil
                write(answer, isPrivate: isPrivate, context: context)
                metrics.requestFinished(
                    route: answer.path, method: "GET", status: Int(answer.status.code),
                    duration: ContinuousClock.now - start)
                becomeIdleIfDone(context: context)
            } else {
                isReadingPassedOn = false
                context.fireChannelRead(data)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushAnswers(context: context)
        context.fireChannelReadComplete()
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

    private func inlineAnswer(for head: HTTPRequestHead, context: ChannelHandlerContext) -> InlineAnswer? {
        guard requestsPassedOn == 0, !isClosing, head.method == .GET, head.version == .http1_1, head.isKeepAlive,
            context.channel.isWritable,
            !head.headers.contains(name: "transfer-encoding"),
            head.headers.first(name: "content-length").map({ $0 == "0" }) ?? true
        else { return nil }
        let target = head.uri
        let path = target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
        return answers[path]
    }

    private func becomeIdleIfDone(context: ChannelHandlerContext) {
        if requestsPassedOn == 0 || isClosing, answering == nil, !isReadingPassedOn, context.channel.isActive {
            idleness.start(context: context)
        }
    }

    private func write(_ answer: InlineAnswer, isPrivate: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([
            ("Content-Type", answer.contentType),
            ("Content-Length", String(answer.body.readableBytes)),
            ("Date", date.now()),
            (GatewayResponder.requestIDField.rawName, WireTraceID.random().description),
        ])
        for (name, value) in SecurityHeaders.onEveryAnswer {
            headers.add(name: name.rawName, value: value)
        }
        if isPrivate {
            headers.add(name: HTTPFields.Element.Name.cacheControl.rawName, value: "no-store")
        }
        let head = HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
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
