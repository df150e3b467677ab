import Logging
import NIOCore

/// "What is under way on this connection must be done within `timeout`", with at most one timer per connection.
///
/// Finishing in time cancels nothing: the timer, when it fires, looks at what is under way then, calls `overdue` if
/// that began more than `timeout` ago, and otherwise sets itself for that one's deadline. A keep-alive connection
/// serving a thousand requests within the timeout sets one timer, not a thousand (each a heap insert and removal on
/// the event loop). Used on the connection's event loop only.
final class ConnectionDeadline {
    let timeout: TimeAmount
    private let overdue: (ChannelHandlerContext) -> Void
    private var started: NIODeadline?
    private var timer: Scheduled<Void>?

    /// - Parameter overdue: called on the event loop when what is under way has run past `timeout`.
    init(timeout: TimeAmount, overdue: @escaping (ChannelHandlerContext) -> Void) {
        self.timeout = timeout
        self.overdue = overdue
    }

    /// Whether something is under way.
    var isRunning: Bool { started != nil }

    /// Something begins now.
    func start(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        started = now
        if timer == nil {
            arm(at: now + timeout, context: context)
        }
    }

    /// What was under way finished in time.
    func finish() {
        started = nil
    }

    /// The connection is gone: no timer left behind.
    func cancel() {
        timer?.cancel()
        timer = nil
        started = nil
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            timer = nil
            guard let started else { return }  // nothing under way: no timer until the next start
            guard context.eventLoop.now >= started + timeout else {
                arm(at: started + timeout, context: context)
                return
            }
            overdue(context)
        }
    }
}

extension ConnectionDeadline {
    /// The deadline for a request to arrive in full (`requestReadTimeout`): once overdue, the connection is logged and
    /// closed. Kept by whichever handler reads the request (the body guard, or the ``InlineAnswerHandler`` for a route
    /// it answers).
    static func requestRead(limits: GatewayConfiguration.Limits, logger: Logger) -> ConnectionDeadline {
        let timeout = TimeAmount(limits.requestReadTimeout)
        return ConnectionDeadline(timeout: timeout) { context in
            logger.info("closing a connection whose request did not arrive in time", metadata: ["limit": "\(timeout)"])
            context.close(promise: nil)
        }
    }
}
