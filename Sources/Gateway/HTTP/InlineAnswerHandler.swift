import Hummingbird
import NIOCore
import Wire

/// An answer that needs neither a service nor a suspension: the same bytes every time (`GET /healthz`).
struct InlineAnswer: Sendable {
    /// The route template it answers, as metrics label it.
    let path: String
    let status: HTTPResponse.Status
    let contentType: String
    let body: ByteBuffer

    /// `GET /healthz`: the process is up and its event loops answer. The same answer as the route of that name.
    static let health = InlineAnswer(
        path: "/healthz", status: .ok, contentType: "application/json", body: StatusJSON.healthy.jsonBuffer)
}

/// Answers `GET` requests for an ``InlineAnswer`` on the connection's event loop, where they arrive: no task, no
/// hand-over to Hummingbird's connection loop and back, and one flush for every answer of a read burst.
///
/// Every other request, and an inline one that must not overtake an answer still owed (HTTP/1.1 answers in request
/// order), goes on to Hummingbird's handling, which answers it through the route table as before. So does a request
/// that asks to close the connection (`Connection: close`), which Hummingbird's loop honours.
///
/// Sits after Hummingbird's `HTTPConnectionStateHandler` (which counts the request and its answer for the idle
/// timeout and graceful shutdown) and after ``RequestBodyGuardHandler`` (limits and deadlines): an inline answer
/// passes through both like any other.
final class InlineAnswerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = ResponsePart

    private let answers: [String: InlineAnswer]
    private let metrics: GatewayMetrics
    /// Requests passed on whose answer has not been written in full yet.
    private var requestsPassedOn = 0
    /// The inline request being read (its body, if any, is dropped), with when it began.
    private var answering: (answer: InlineAnswer, isPrivate: Bool, start: ContinuousClock.Instant)?
    private var needsFlush = false
    private var date = HTTPDateCache()

    init(answers: [InlineAnswer], metrics: GatewayMetrics) {
        self.answers = Dictionary(answers.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let answer = inlineAnswer(for: head) {
                metrics.requestStarted()
                answering = (answer, head.headerFields[.authorization] != nil, ContinuousClock.now)
            } else {
                requestsPassedOn += 1
                context.fireChannelRead(data)
            }
        case .body:
            if answering == nil {
                context.fireChannelRead(data)
            }
        case .end:
            if let (answer, isPrivate, start) = answering {
                answering = nil
                write(answer, isPrivate: isPrivate, context: context)
                metrics.requestFinished(
                    route: answer.path, method: "GET", status: Int(answer.status.code),
                    duration: ContinuousClock.now - start)
            } else {
                context.fireChannelRead(data)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            // Never below zero: Hummingbird also answers a request it could not parse, which was never passed on.
            requestsPassedOn = max(0, requestsPassedOn - 1)
        }
        context.write(data, promise: promise)
    }

    private func inlineAnswer(for head: HTTPRequest) -> InlineAnswer? {
        guard requestsPassedOn == 0, head.method == .get, let target = head.path,
            !head.headerFields[values: .connection].contains(where: { $0.lowercased().contains("close") })
        else { return nil }
        let path = target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
        return answers[path]
    }

    private func write(_ answer: InlineAnswer, isPrivate: Bool, context: ChannelHandlerContext) {
        var headers: HTTPFields = [
            .contentType: answer.contentType,
            .contentLength: String(answer.body.readableBytes),
            .date: date.now(),
            GatewayResponder.requestIDField: WireTraceID.random().description,
        ]
        SecurityHeaders.apply(to: &headers, isPrivate: isPrivate)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        needsFlush = true
    }
}
