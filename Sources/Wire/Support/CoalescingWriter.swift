import NIOCore

/// Writes to one channel from any thread, with one flush for all the writes that reach its event loop in the same
/// turn: many answers (or requests) finishing together cost one syscall, not one each.
///
/// Every write still completes its own promise once its bytes are handed to the socket.
final class CoalescingWriter: Sendable {
    private let channel: any Channel
    private let flushScheduled: NIOLoopBoundBox<Bool>

    init(channel: any Channel) {
        self.channel = channel
        flushScheduled = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: channel.eventLoop)
    }

    /// Queues `message` and schedules a flush for the end of the event loop's current turn, if none is pending.
    func write(_ message: some Sendable, promise: EventLoopPromise<Void>?) {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            enqueue(message, promise: promise)
        } else {
            eventLoop.execute { self.enqueue(message, promise: promise) }
        }
    }

    private func enqueue(_ message: some Sendable, promise: EventLoopPromise<Void>?) {
        channel.write(message, promise: promise)
        guard !flushScheduled.value else { return }
        flushScheduled.value = true
        channel.eventLoop.execute {
            self.flushScheduled.value = false
            self.channel.flush()
        }
    }
}
