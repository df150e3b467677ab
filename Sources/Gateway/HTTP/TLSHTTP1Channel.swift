import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import TLS

/// Hummingbird's HTTP/1.1 child channel with our OpenSSL ``TLSHandler`` in front, in the place Hummingbird's own
/// `TLSChannel` gives NIOSSL, and an ``InlineAnswerHandler`` that answers `GET /healthz` on the event loop.
///
/// Without a ``TLSContext`` it is plain HTTP (tests and loopback tools). A failed handshake, a plain-HTTP client on
/// the TLS port, or a stalled handshake ends in an error on this channel's inbound stream; Hummingbird's connection
/// loop logs it and closes this connection only.
struct TLSHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    private let base: HTTP1Channel
    private let tlsContext: TLSContext?
    private let connections: ConnectionsPerAddress
    private let inlineAnswers: [InlineAnswer]
    private let idleTimeout: TimeAmount
    private let metrics: GatewayMetrics

    /// - Parameter idleTimeout: how long the connection may sit with nothing asked or answered; kept by the
    ///   ``InlineAnswerHandler``, which sees every request (`base` must have no idle timeout of its own).
    init(
        base: HTTP1Channel, tlsContext: TLSContext?, connections: ConnectionsPerAddress,
        inlineAnswers: [InlineAnswer], idleTimeout: TimeAmount, metrics: GatewayMetrics
    ) {
        precondition(base.configuration.idleTimeout == nil, "the InlineAnswerHandler keeps the idle timeout")
        self.base = base
        self.tlsContext = tlsContext
        self.connections = connections
        self.inlineAnswers = inlineAnswers
        self.idleTimeout = idleTimeout
        self.metrics = metrics
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ConnectionLimitHandler(connections: connections, logger: logger))
            if let tlsContext {
                try pipeline.addHandler(TLSHandler(context: tlsContext))
            }
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            // Right after NIO's HTTP/1 decoder: an inline answer passes through none of the handlers above it.
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(
                InlineAnswerHandler(answers: inlineAnswers, idleTimeout: idleTimeout, metrics: metrics),
                position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
