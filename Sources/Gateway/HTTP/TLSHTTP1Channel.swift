import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import TLS

/// Hummingbird's HTTP/1.1 child channel with our OpenSSL ``TLSHandler`` in front, in the place Hummingbird's own
/// `TLSChannel` gives NIOSSL, and an ``InlineAnswerHandler`` that answers `GET /healthz` and the ``InlineRoute``s
/// (`POST /api/v1/tweets`, `GET /api/v1/timelines/home`) on the event loop.
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
    private let inlineRoutes: [InlineRoute]
    private let limits: GatewayConfiguration.Limits
    private let metrics: GatewayMetrics

    /// - Parameter limits: the body limit, and the idle and read timeouts that the ``InlineAnswerHandler`` keeps
    ///   (it sees every request, so `base` must have no idle timeout of its own).
    init(
        base: HTTP1Channel, tlsContext: TLSContext?, connections: ConnectionsPerAddress,
        inlineAnswers: [InlineAnswer], inlineRoutes: [InlineRoute], limits: GatewayConfiguration.Limits,
        metrics: GatewayMetrics
    ) {
        precondition(base.configuration.idleTimeout == nil, "the InlineAnswerHandler keeps the idle timeout")
        self.base = base
        self.tlsContext = tlsContext
        self.connections = connections
        self.inlineAnswers = inlineAnswers
        self.inlineRoutes = inlineRoutes
        self.limits = limits
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
                InlineAnswerHandler(
                    answers: inlineAnswers, routes: inlineRoutes, limits: limits, metrics: metrics, logger: logger),
                position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
