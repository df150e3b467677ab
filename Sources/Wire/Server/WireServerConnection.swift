import Logging
import NIOCore

/// One accepted connection as the server's accept loop sees it: started once accepted, drained or closed on
/// shutdown. The protocol itself runs in its ``WireServerHandler``, on the connection's event loop.
final class WireServerConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<WireServerHandler>
    private let finished: EventLoopFuture<Void>

    /// Adds the handler (which does its own framing) to a channel just accepted, with reading paused until ``run()``:
    /// nothing is read from a connection the server has not taken (it may be over the limit).
    /// Call it on the channel's event loop.
    init(
        channel: any Channel,
        router: WireRouter,
        configuration: WireServerConfiguration,
        serverInFlight: SharedAtomic<Int>,
        refusals: HandshakeRefusalLog,
        logger: Logger
    ) throws {
        let handler = WireServerHandler(
            router: router, configuration: configuration, serverInFlight: serverInFlight, refusals: refusals,
            peer: channel.remoteAddress?.description ?? "?", logger: logger, eventLoop: channel.eventLoop
        )
        try channel.syncOptions?.setOption(.autoRead, value: false)
        try channel.pipeline.syncOperations.addHandler(handler)
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        finished = handler.finished.futureResult
    }

    /// Serves until the connection closes and every request it started has ended.
    func run() async {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.startHandshakeClock() }
        channel.setOption(.autoRead, value: true).whenFailure { _ in self.close() }
        try? await finished.get()
    }

    /// Closes the connection at once, requests in flight or not.
    func close() {
        channel.close(promise: nil)
    }

    /// Stops taking requests: sends `goAway`, lets running requests finish, then closes.
    func drain(reason: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.drain(reason: reason) }
    }
}
