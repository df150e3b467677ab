import NIOCore

/// One flush at the end of an event-loop turn for every frame a handler wrote in it: writes are cheap, flushes are
/// syscalls. Used on the handler's event loop only.
final class EndOfTurnFlush {
    private var scheduled = false

    init() {}

    /// Asks for a flush of `context` once the current turn of its event loop ends; nothing more if one is asked for.
    /// `context` is read again then (`nil`: the handler left the pipeline, nothing to flush).
    func request(on eventLoop: any EventLoop, _ context: @escaping () -> ChannelHandlerContext?) {
        guard !scheduled else { return }
        scheduled = true
        eventLoop.assumeIsolated().execute {
            self.scheduled = false
            context()?.flush()
        }
    }
}
