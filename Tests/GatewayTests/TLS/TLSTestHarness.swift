import Gateway
import NIOCore
import NIOPosix
import Synchronization

/// What the ``TLSHandler``s of one side reported to the handlers behind them, over all their connections.
final class TLSEventLog: Sendable {
    private struct Entries {
        var events: [TLSEvent] = []
        var errors: [TLSError] = []
        var closedConnections = 0
    }

    private let entries = Mutex(Entries())

    var events: [TLSEvent] { entries.withLock { $0.events } }
    var errors: [TLSError] { entries.withLock { $0.errors } }
    var errorCodes: [TLSError.Code] { errors.map(\.code) }
    var closedConnections: Int { entries.withLock { $0.closedConnections } }

    var sessions: [TLSSession] {
        events.compactMap { if case .handshakeCompleted(let session) = $0 { session } else { nil } }
    }

    var closeNotifies: Int { events.filter { $0 == .closeNotifyReceived }.count }

    fileprivate func record(_ event: TLSEvent) { entries.withLock { $0.events.append(event) } }
    fileprivate func record(_ error: TLSError) { entries.withLock { $0.errors.append(error) } }
    fileprivate func recordClose() { entries.withLock { $0.closedConnections += 1 } }
}

/// Sits right behind a ``TLSHandler`` and copies its events, its errors and the channel's closing into a log.
final class TLSEventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let log: TLSEventLog

    init(log: TLSEventLog) {
        self.log = log
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSEvent {
            log.record(event)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            log.record(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.recordClose()
        context.fireChannelInactive()
    }
}

/// Echoes every plaintext byte; the exact message `close` makes it close the connection instead.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if bytes.readableBytesView.elementsEqual("close".utf8) {
            context.close(promise: nil)
        } else {
            context.write(wrapOutboundOut(bytes), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Answers the first request head with a fixed `200 hello` and closes, as an HTTP/1.1 server with `Connection: close`.
final class HelloResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var request = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        request += String(buffer: unwrapInboundIn(data))
        guard request.contains("\r\n\r\n") else { return }
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// A TLS server on 127.0.0.1 and an ephemeral port: ``TLSHandler``, ``TLSEventRecorder``, then the application.
struct TLSTestServer: Sendable {
    let channel: any Channel
    let log: TLSEventLog
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(
        configuration: TLSConfiguration,
        application: @escaping @Sendable () -> any ChannelHandler = { EchoHandler() }
    ) async throws -> TLSTestServer {
        let context = try TLSContext(configuration: configuration)
        let log = TLSEventLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        TLSHandler(context: context), TLSEventRecorder(log: log), application(),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TLSTestServer(channel: channel, log: log)
    }

    func stop() async throws {
        try await channel.close()
    }
}

/// Starts a server, runs `body` against it and stops it again, whatever `body` does.
func withTLSServer<T>(
    configuration: TLSConfiguration,
    application: @escaping @Sendable () -> any ChannelHandler = { EchoHandler() },
    _ body: (TLSTestServer) async throws -> T
) async throws -> T {
    let server = try await TLSTestServer.start(configuration: configuration, application: application)
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}

typealias ByteChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// A TCP connection to `port`, through a client-mode ``TLSHandler`` when `tls` is given, else raw.
func connect(port: Int, tls: TLSContext?, serverName: String? = "localhost", log: TLSEventLog = TLSEventLog()) async throws -> ByteChannel {
    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandlers([
                        TLSHandler(context: tls, serverName: serverName), TLSEventRecorder(log: log),
                    ])
                }
                return try ByteChannel(wrappingChannelSynchronously: channel)
            }
        }
}

/// Reads until `count` bytes have arrived or the peer closes, whichever comes first.
func read(_ count: Int, from inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async throws -> ByteBuffer {
    var received = ByteBuffer()
    for try await chunk in inbound {
        received.writeImmutableBuffer(chunk)
        if received.readableBytes >= count { break }
    }
    return received
}

/// Waits until `condition` holds, checking every 10 ms; false if it still does not after `timeout`.
func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs `body`, failing with ``TestFailure`` if it takes longer than `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestFailure("timed out after \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
