import NIOCore

/// TLS for one connection, as the first handler of its pipeline: ciphertext towards the socket, plaintext behind it.
///
/// Whether it accepts or connects follows the ``TLSContext``'s role. A server child channel gets one like this, in
/// front of the HTTP handlers:
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext))
/// ```
/// and a client (tests, mostly) names the server it expects:
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(TLSHandler(context: clientContext, serverName: "localhost"))
/// ```
/// Writes made before the handshake finishes are held (up to ``TLSConfiguration/maxBufferedPlaintext``) and sent
/// once it does. A failed or timed-out handshake, a protocol error or a ragged EOF fires a ``TLSError`` through
/// `errorCaught` and closes this channel, and only this channel. `close()` sends close_notify first; so does the
/// handler when the peer's close_notify arrives (see ``TLSEvent``).
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    enum State {
        /// Added to a channel that is not active yet.
        case idle
        case handshaking
        case active
        /// `close(mode: .output)` sent our close_notify; the peer may still send.
        case outputClosed
        /// Our last records (close_notify or an alert) are on their way; the channel closes once they are written.
        case closing
        case closed
    }

    private let tlsContext: TLSContext
    private let serverName: String?
    var configuration: TLSConfiguration { tlsContext.configuration }
    var connection: TLSConnection?
    var state = State.idle
    var channelContext: ChannelHandlerContext?
    var bufferedWrites: [(plaintext: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    var bufferedBytes = 0
    /// Plaintext written since the last flush, once the handshake is done: encrypted at the flush as one run of
    /// records and written as one buffer (an HTTP response's head and body make one record, not two).
    var unflushedPlaintext: ByteBuffer?
    /// Completes when `unflushedPlaintext` has been written; the promises of the writes behind it follow it.
    var unflushedPromise: EventLoopPromise<Void>?
    /// `close()` came during the handshake while writes were buffered; it runs once those are sent.
    var closeRequested = false
    var closePromise: EventLoopPromise<Void>?
    var handshakeTimer: Scheduled<Void>?
    var shutdownTimer: Scheduled<Void>?

    /// What the handshake settled on; `nil` until ``TLSEvent/handshakeCompleted(_:)`` has been fired.
    public private(set) var session: TLSSession?

    /// - Parameters:
    ///   - context: shared configuration, certificates and role; one per server (or client) for all its connections.
    ///   - serverName: clients only: the DNS name to send as SNI and, if the context verifies, to check the server's
    ///     certificate against.
    public init(context: TLSContext, serverName: String? = nil) {
        self.tlsContext = context
        self.serverName = serverName
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        do {
            connection = try TLSConnection(context: tlsContext, serverName: serverName)
        } catch {
            state = .closed
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if context.channel.isActive {
            beginHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        state = .closed
        cancelTimers()
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        closePromise?.fail(ChannelError.ioOnClosedChannel)
        closePromise = nil
        connection = nil  // frees the SSL and both BIOs
        channelContext = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        beginHandshake(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        cancelTimers()
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        switch previous {
        case .handshaking:
            context.fireErrorCaught(TLSError(.unexpectedEOF, "connection closed during the handshake"))
        case .active, .outputClosed:
            context.fireErrorCaught(TLSError(.unexpectedEOF, "connection closed without close_notify"))
        case .idle, .closing, .closed:
            break
        }
        closePromise?.succeed()
        closePromise = nil
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = state {
            beginHandshake(context: context)
        }
        switch state {
        case .handshaking, .active, .outputClosed:
            guard let connection else { return }
            do {
                try connection.receive(unwrapInboundIn(data))
            } catch {
                fail(context: context, error: error)
                return
            }
            if case .handshaking = state {
                handshakeStep(context: context)
            } else {
                readPlaintext(context: context)
            }
        case .idle, .closing, .closed:
            break  // the connection is going away: whatever the peer still sends is dropped
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .idle, .handshaking, .active, .outputClosed:
            // A TCP half-close where close_notify should have come: the peer's data may be truncated.
            fail(context: context, error: TLSError(.unexpectedEOF, "peer closed its side without close_notify"))
        case .closing, .closed:
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            guard bufferedBytes + plaintext.readableBytes <= configuration.maxBufferedPlaintext else {
                promise?.fail(
                    TLSError(
                        .writeBufferFull,
                        "more than \(configuration.maxBufferedPlaintext) bytes written before the handshake finished"))
                return
            }
            bufferedWrites.append((plaintext, promise))
            bufferedBytes += plaintext.readableBytes
        case .active:
            holdUntilFlush(plaintext, promise: promise)
        case .outputClosed, .closing:
            promise?.fail(ChannelError.outputClosed)
        case .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .idle, .handshaking:
            break  // buffered writes are flushed as soon as the handshake finishes
        case .active:
            encryptUnflushed(context: context)
            context.flush()
        case .outputClosed, .closing, .closed:
            context.flush()
        }
    }

    private func holdUntilFlush(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        if unflushedPlaintext == nil {
            unflushedPlaintext = plaintext
        } else {
            unflushedPlaintext!.writeImmutableBuffer(plaintext)
        }
        guard let promise else { return }
        if let unflushedPromise {
            unflushedPromise.futureResult.cascade(to: promise)
        } else {
            unflushedPromise = promise
        }
    }

    /// Encrypts and writes (without flushing) what was written since the last flush: before a flush, and before
    /// close_notify, so that no data written before a close is lost or sent after it.
    func encryptUnflushed(context: ChannelHandlerContext) {
        guard let plaintext = unflushedPlaintext else { return }
        let promise = unflushedPromise
        unflushedPlaintext = nil
        unflushedPromise = nil
        encryptAndWrite(context: context, plaintext: plaintext, promise: promise)
    }

    // MARK: - Handshake

    private func beginHandshake(context: ChannelHandlerContext) {
        guard case .idle = state, connection != nil else { return }
        state = .handshaking
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.handshakeTimeout) {
            [weak self] in
            guard let self, case .handshaking = state, let context = channelContext else { return }
            let limit = configuration.handshakeTimeout
            fail(context: context, error: TLSError(.handshakeTimeout, "handshake not finished within \(limit)"))
        }
        handshakeStep(context: context)
    }

    private func handshakeStep(context: ChannelHandlerContext) {
        guard let connection else { return }
        switch connection.handshake() {
        case .incomplete:
            if sendCiphertext(context: context) {
                context.flush()
            }
        case .failed(let error):
            fail(context: context, error: error)
        case .complete(let session):
            handshakeTimer?.cancel()
            handshakeTimer = nil
            state = .active
            self.session = session
            sendCiphertext(context: context)
            sendBufferedWrites(context: context)
            context.flush()
            context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(session))
            if closeRequested {
                closeRequested = false
                close(context: context, mode: .all, promise: nil)
            }
            // Application data may have arrived together with the peer's last handshake flight.
            if case .active = state {
                readPlaintext(context: context)
            }
        }
    }

    private func sendBufferedWrites(context: ChannelHandlerContext) {
        let writes = bufferedWrites
        bufferedWrites = []
        bufferedBytes = 0
        for (index, write) in writes.enumerated() {
            guard case .active = state else {
                writes[index...].forEach { $0.promise?.fail(ChannelError.ioOnClosedChannel) }
                return
            }
            encryptAndWrite(context: context, plaintext: write.plaintext, promise: write.promise)
        }
    }

    // MARK: - Records

    private func readPlaintext(context: ChannelHandlerContext) {
        guard let connection else { return }
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        let result = connection.read(into: &plaintext)
        // Reading can produce records of our own: a KeyUpdate answer, or an alert.
        if sendCiphertext(context: context) {
            context.flush()
        }
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
        switch result {
        case .needsMoreCiphertext:
            break
        case .closeNotify:
            peerSentCloseNotify(context: context)
        case .failed(let error):
            fail(context: context, error: error)
        }
    }

    private func encryptAndWrite(
        context: ChannelHandlerContext, plaintext: ByteBuffer, promise: EventLoopPromise<Void>?
    ) {
        do {
            try connection?.write(plaintext)
        } catch {
            promise?.fail(error)
            fail(context: context, error: error)
            return
        }
        sendCiphertext(context: context, promise: promise)
    }

    /// Writes (without flushing) whatever ciphertext OpenSSL has produced. With a promise, an empty write keeps the
    /// promise in order behind earlier writes even when there is nothing to send. Returns whether it wrote anything.
    @discardableResult
    func sendCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) -> Bool {
        let ciphertext = connection?.takeCiphertext(allocator: context.channel.allocator)
        guard let bytes = ciphertext ?? promise.map({ _ in context.channel.allocator.buffer(capacity: 0) }) else {
            return false
        }
        context.write(wrapOutboundOut(bytes), promise: promise)
        return true
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
