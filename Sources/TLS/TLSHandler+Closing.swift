import NIOCore

/// How a ``TLSHandler`` ends a connection: close_notify on a clean close, OpenSSL's alert on a failure, and in both
/// cases the socket is closed only after those last records were written (or the shutdown timeout passed).
extension TLSHandler {
    /// Closes after sending close_notify (`.all`), or sends close_notify and then half-closes the socket (`.output`).
    ///
    /// Before the handshake has finished there is no session to close: the channel closes at once, or, when writes
    /// are still waiting for the handshake, right after they are sent. `.input` goes down to the socket: it stops
    /// reading, the TLS session is untouched (Hummingbird half-closes input to wake a request loop it cancels).
    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch (mode, state) {
        case (.input, _):
            context.close(mode: .input, promise: promise)
        case (.output, .active):
            encryptUnflushed(context: context)
            connection?.shutdown()
            state = .outputClosed
            let written = context.eventLoop.makePromise(of: Void.self)
            sendCiphertext(context: context, promise: written)
            context.flush()
            written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
                guard let context = self?.channelContext else {
                    promise?.fail(ChannelError.ioOnClosedChannel)
                    return
                }
                context.close(mode: .output, promise: promise)
            }
        case (.output, .outputClosed):
            promise?.fail(ChannelError.outputClosed)
        case (_, .idle):
            if mode == .all {
                state = .closed
            }
            context.close(mode: mode, promise: promise)
        case (_, .handshaking) where !bufferedWrites.isEmpty:
            // Writes queued before the close must not be lost; the handshake timeout bounds the wait.
            closeRequested = true
            attachClosePromise(promise)
        case (_, .handshaking):
            state = .closing
            attachClosePromise(promise)
            closeAfterFinalRecords(context: context)
        case (_, .active), (_, .outputClosed):
            if case .active = state {
                encryptUnflushed(context: context)
                connection?.shutdown()
            }
            state = .closing
            attachClosePromise(promise)
            closeAfterFinalRecords(context: context)
        case (_, .closing):
            attachClosePromise(promise)
        case (_, .closed):
            context.close(mode: mode, promise: promise)
        }
    }

    func peerSentCloseNotify(context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(TLSEvent.closeNotifyReceived)
        // Unless a handler closed the channel on the event already, answer with our close_notify and close.
        switch state {
        case .active, .outputClosed:
            close(context: context, mode: .all, promise: nil)
        case .idle, .handshaking, .closing, .closed:
            break
        }
    }

    /// Closes only this channel for `error`: tells the handlers behind, then sends OpenSSL's alert, if any, and closes.
    func fail(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .closing, .closed:
            return
        case .idle, .handshaking, .active, .outputClosed:
            break
        }
        state = .closing
        handshakeTimer?.cancel()
        handshakeTimer = nil
        failBufferedWrites(error)
        context.fireErrorCaught(error)
        closeAfterFinalRecords(context: context)
    }

    /// Writes our last records and closes once they are out, or after the shutdown timeout if the peer stops reading.
    private func closeAfterFinalRecords(context: ChannelHandlerContext) {
        let written = context.eventLoop.makePromise(of: Void.self)
        sendCiphertext(context: context, promise: written)
        context.flush()
        shutdownTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.shutdownTimeout) {
            [weak self] in
            self?.closeChannel()
        }
        written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            self?.closeChannel()
        }
    }

    private func closeChannel() {
        guard case .closing = state, let context = channelContext else { return }
        state = .closed
        cancelTimers()
        let promise = closePromise
        closePromise = nil
        context.close(promise: promise)
    }

    private func attachClosePromise(_ promise: EventLoopPromise<Void>?) {
        guard let promise else { return }
        if let closePromise {
            closePromise.futureResult.cascade(to: promise)
        } else {
            closePromise = promise
        }
    }

    /// Fails the writes that wait for the handshake or for a flush.
    func failBufferedWrites(_ error: any Error) {
        let writes = bufferedWrites
        bufferedWrites = []
        bufferedBytes = 0
        writes.forEach { $0.promise?.fail(error) }
        let unflushed = unflushedPromise
        unflushedPlaintext = nil
        unflushedPromise = nil
        unflushed?.fail(error)
    }

    func cancelTimers() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        shutdownTimer?.cancel()
        shutdownTimer = nil
    }
}
