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
/// Deadlines cost no timer per request: each kind is a ``ConnectionDeadline``, at most one timer per connection.
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
    /// From a request's head to its end.
    private let readDeadline: ConnectionDeadline
    /// From an answer's head until its end is written to the socket.
    private let writeDeadline: ConnectionDeadline
    private let lingerTimeout: TimeAmount
    private var lingerTimer: Scheduled<Void>?
    private var isLingering = false
    /// Set while Hummingbird's own answer to an unparsable request (a bodiless 400) goes out, to give it our JSON body.
    private var isRewritingParseError = false

    init(limits: GatewayConfiguration.Limits, logger: Logger) {
        bodyGuard = RequestBodyGuard(maxBodyBytes: limits.maxBodyBytes)
        readDeadline = .requestRead(limits: limits, logger: logger)
        let writeTimeout = TimeAmount(limits.responseWriteTimeout)
        writeDeadline = ConnectionDeadline(timeout: writeTimeout) { context in
            logger.info(
                "closing a connection whose client did not read its answer in time",
                metadata: ["limit": "\(writeTimeout)"])
            context.close(promise: nil)
        }
        lingerTimeout = TimeAmount(limits.lingerTimeout)
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
        if !bodyGuard.isReadingRequest {
            readDeadline.finish()
        } else if !readDeadline.isRunning {
            readDeadline.start(context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where Self.isParseErrorAnswer(head):
            // Hummingbird answers a request line or header block that HTTP/1 cannot parse itself, with an empty 400.
            // The API promises a JSON error on every answer, so the body is added here.
            writeDeadline.start(context: context)
            isRewritingParseError = true
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(Self.parseErrorBody.readableBytes)
            head.headerFields[GatewayResponder.requestIDField] = WireTraceID.random().description
            SecurityHeaders.apply(to: &head.headerFields, isPrivate: false)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head(var head):
            writeDeadline.start(context: context)
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
            writeEnd(data, promise: promise, closing: false, context: context)
        case .end:
            writeEnd(data, promise: promise, closing: bodyGuard.responseEnd() == .forwardThenClose, context: context)
        }
    }

    /// Writes an answer's end; once it is written the write deadline is met and, when `closing`, the connection
    /// lingers to a close.
    private func writeEnd(
        _ end: NIOAny, promise: EventLoopPromise<Void>?, closing: Bool, context: ChannelHandlerContext
    ) {
        let written = context.eventLoop.makePromise(of: Void.self)
        if closing {
            context.writeAndFlush(end, promise: written)
        } else {
            context.write(end, promise: written)
        }
        written.futureResult.assumeIsolated().whenComplete { [weak self] result in
            self?.writeDeadline.finish()
            promise?.completeWith(result)
            if closing {
                self?.linger(context: context)
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
        readDeadline.cancel()
        writeDeadline.cancel()
        lingerTimer?.cancel()
        lingerTimer = nil
    }
}

@available(*, unavailable)
extension RequestBodyGuardHandler: Sendable {}
