import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Wire

extension NIOAsyncChannel {
    /// What the channel reads; lets other code name the element type of a channel type it did not write.
    typealias InboundElement = Inbound
    /// What the channel writes.
    typealias OutboundElement = Outbound
}

/// Hummingbird's HTTP/1 parts (NIOHTTPTypes' `HTTPRequestPart` and `HTTPResponsePart`), named through `HTTP1Channel`
/// so that the Gateway needs no direct dependency on swift-nio-extras.
typealias RequestPart = HTTP1Channel.Value.InboundElement
typealias ResponsePart = HTTP1Channel.Value.OutboundElement

/// Enforces, on one connection, the body limit (``RequestBodyGuard``), the time a request may take to arrive and the
/// time its answer may take to leave (a client that stops reading holds no connection for ever).
///
/// Deadlines cost no timer per request: each kind has at most one timer per connection, which is not cancelled when a
/// request or answer completes in time. When it fires it looks at what is under way now, closes the connection if
/// that is overdue, and otherwise sets itself for that one's deadline. A keep-alive connection answering a thousand
/// requests within a timeout sets one timer, not two thousand (each a heap insert and removal on the event loop).
///
/// Sits between the HTTP codec and Hummingbird's request handling. After answering an oversized request it closes
/// gently: it ends its own sending side (after TLS close_notify), drops what the client still sends, and closes once
/// the client does or ``GatewayConfiguration/Limits/lingerTimeout`` passes. Closing at once, with unread bytes in the
/// socket, would make the kernel send a reset that can destroy the 413 before the client reads it.
final class RequestBodyGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = ResponsePart

    private var bodyGuard: RequestBodyGuard
    private let readTimeout: TimeAmount
    private let writeTimeout: TimeAmount
    private let lingerTimeout: TimeAmount
    private let logger: Logger
    private var readTimer: Scheduled<Void>?
    private var writeTimer: Scheduled<Void>?
    /// When the request being read began to arrive, and when the answer being written began to leave.
    private var readStarted: NIODeadline?
    private var writeStarted: NIODeadline?
    private var lingerTimer: Scheduled<Void>?
    private var isLingering = false
    /// Set while Hummingbird's own answer to an unparsable request (a bodiless 400) goes out, to give it our JSON body.
    private var isRewritingParseError = false

    init(limits: GatewayConfiguration.Limits, logger: Logger) {
        bodyGuard = RequestBodyGuard(maxBodyBytes: limits.maxBodyBytes)
        readTimeout = TimeAmount(limits.requestReadTimeout)
        writeTimeout = TimeAmount(limits.responseWriteTimeout)
        lingerTimeout = TimeAmount(limits.lingerTimeout)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: RequestBodyGuard.InboundAction
        switch unwrapInboundIn(data) {
        case .head(let head):
            action = bodyGuard.head(contentLength: head.headerFields[.contentLength].flatMap { Int($0) })
        case .body(let bytes):
            action = bodyGuard.body(byteCount: bytes.readableBytes)
        case .end:
            action = bodyGuard.end()
        }
        switch action {
        case .forward:
            context.fireChannelRead(data)
        case .forwardAndEnd:
            context.fireChannelRead(data)
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        case .drop:
            break
        }
        updateReadTimer(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where Self.isParseErrorAnswer(head):
            // Hummingbird answers a request line or header block that HTTP/1 cannot parse itself, with an empty 400.
            // The API promises a JSON error on every answer, so the body is added here.
            startWriteTimer(context: context)
            isRewritingParseError = true
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(Self.parseErrorBody.readableBytes)
            head.headerFields[GatewayResponder.requestIDField] = WireTraceID.random().description
            SecurityHeaders.apply(to: &head.headerFields, isPrivate: false)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head(var head):
            startWriteTimer(context: context)
            if bodyGuard.responseHead() == .forwardClosing {
                head.headerFields[.connection] = "close"
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            } else {
                context.write(data, promise: promise)
            }
        case .body:
            context.write(data, promise: promise)
        case .end where isRewritingParseError:
            isRewritingParseError = false
            context.write(wrapOutboundOut(.body(Self.parseErrorBody)), promise: nil)
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { [weak self] result in
                self?.writeFinished()
                promise?.completeWith(result)
            }
        case .end:
            let written = context.eventLoop.makePromise(of: Void.self)
            switch bodyGuard.responseEnd() {
            case .forward:
                context.write(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { [weak self] result in
                    self?.writeFinished()
                    promise?.completeWith(result)
                }
            case .forwardThenClose:
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { [weak self] result in
                    self?.writeFinished()
                    promise?.completeWith(result)
                    self?.linger(context: context)
                }
            }
        }
    }

    /// The body of every answer to an unparsable request.
    private static let parseErrorBody = APIError.badRequest("the request line or headers are malformed or too large")
        .jsonBody

    /// Whether `head` is Hummingbird's answer to an HTTP parse error: 400, `Connection: close`, no body. The
    /// Gateway's own 400s always carry a JSON body.
    private static func isParseErrorAnswer(_ head: HTTPResponse) -> Bool {
        head.status == .badRequest && head.headerFields[.contentLength] == "0"
            && head.headerFields[.connection] == "close"
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if isLingering, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    /// The read deadline runs from a request's head to its end.
    private func updateReadTimer(context: ChannelHandlerContext) {
        guard bodyGuard.isReadingRequest else {
            readStarted = nil
            return
        }
        guard readStarted == nil else { return }
        let now = context.eventLoop.now
        readStarted = now
        if readTimer == nil {
            armReadTimer(at: now + readTimeout, context: context)
        }
    }

    private func armReadTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        readTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            readTimer = nil
            guard let started = readStarted else { return }  // nothing being read: no timer until the next head
            guard context.eventLoop.now >= started + readTimeout else {
                armReadTimer(at: started + readTimeout, context: context)
                return
            }
            logger.info(
                "closing a connection whose request did not arrive in time", metadata: ["limit": "\(readTimeout)"])
            context.close(promise: nil)
        }
    }

    /// The write deadline runs from a response's head until its end is written to the socket.
    private func startWriteTimer(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        writeStarted = now
        if writeTimer == nil {
            armWriteTimer(at: now + writeTimeout, context: context)
        }
    }

    private func armWriteTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        writeTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            writeTimer = nil
            guard let started = writeStarted else { return }  // nothing being written: no timer until the next head
            guard context.eventLoop.now >= started + writeTimeout else {
                armWriteTimer(at: started + writeTimeout, context: context)
                return
            }
            logger.info(
                "closing a connection whose client did not read its answer in time",
                metadata: ["limit": "\(writeTimeout)"])
            context.close(promise: nil)
        }
    }

    /// The answer under way was written in time.
    private func writeFinished() {
        writeStarted = nil
    }

    private func linger(context: ChannelHandlerContext) {
        guard !isLingering else { return }
        isLingering = true
        let outputClosed = context.eventLoop.makePromise(of: Void.self)
        outputClosed.futureResult.assumeIsolated().whenFailure { _ in
            context.close(promise: nil)
        }
        context.close(mode: .output, promise: outputClosed)
        lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: lingerTimeout) {
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        readTimer?.cancel()
        readTimer = nil
        readStarted = nil
        writeTimer?.cancel()
        writeTimer = nil
        writeStarted = nil
        lingerTimer?.cancel()
        lingerTimer = nil
    }
}

@available(*, unavailable)
extension RequestBodyGuardHandler: Sendable {}
