import NIOCore
import NIOPosix
import Synchronization
import TLS

/// What the ``TLSHandler``s of one side reported to the handlers behind them, over all their connections.
public final class TLSEventLog: Sendable {
    private struct Entries {
        var events: [TLSEvent] = []
        var errors: [TLSError] = []
        var closedConnections = 0
    }

    private let entries = Mutex(Entries())

    public init() {}

    public var events: [TLSEvent] { entries.withLock { $0.events } }
    public var errors: [TLSError] { entries.withLock { $0.errors } }
    public var errorCodes: [TLSError.Code] { errors.map(\.code) }
    public var closedConnections: Int { entries.withLock { $0.closedConnections } }

    public var sessions: [TLSSession] {
        events.compactMap { if case .handshakeCompleted(let session) = $0 { session } else { nil } }
    }

    public var closeNotifies: Int { events.filter { $0 == .closeNotifyReceived }.count }

    fileprivate func record(_ event: TLSEvent) { entries.withLock { $0.events.append(event) } }
    fileprivate func record(_ error: TLSError) { entries.withLock { $0.errors.append(error) } }
    fileprivate func recordClose() { entries.withLock { $0.closedConnections += 1 } }
}

/// Sits right behind a ``TLSHandler`` and copies its events, its errors and the channel's closing into a log.
public final class TLSEventRecorder: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private let log: TLSEventLog

    public init(log: TLSEventLog) {
        self.log = log
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSEvent {
            log.record(event)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            log.record(error)
        }
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        log.recordClose()
        context.fireChannelInactive()
    }
}

/// Echoes every plaintext byte; the exact message `close` makes it close the connection instead.
public final class EchoHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if bytes.readableBytesView.elementsEqual("close".utf8) {
            context.close(promise: nil)
        } else {
            context.write(wrapOutboundOut(bytes), promise: nil)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Answers the first request head with a fixed `200 hello` and closes, as an HTTP/1.1 server with `Connection: close`.
public final class HelloResponder: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public init() {}

    private var request = ""

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        request += String(buffer: unwrapInboundIn(data))
        guard request.contains("\r\n\r\n") else { return }
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// A TLS server on 127.0.0.1 and an ephemeral port: ``TLSHandler``, ``TLSEventRecorder``, then the application.
public struct TLSTestServer: Sendable {
    public let channel: any Channel
    public let log: TLSEventLog
    public var port: Int { channel.localAddress?.port ?? 0 }

    public static func start(
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

    public func stop() async throws {
        try await channel.close()
    }
}

/// Starts a server, runs `body` against it and stops it again, whatever `body` does.
public func withTLSServer<T>(
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

public typealias ByteChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// A TCP connection to `port`, through a client-mode ``TLSHandler`` when `tls` is given, else raw.
public func connect(port: Int, tls: TLSContext?, serverName: String? = "localhost", log: TLSEventLog = TLSEventLog())
    async throws -> ByteChannel
{
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
public func read(_ count: Int, from inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async throws -> ByteBuffer {
    var received = ByteBuffer()
    for try await chunk in inbound {
        received.writeImmutableBuffer(chunk)
        if received.readableBytes >= count { break }
    }
    return received
}

/// Waits until `condition` holds, checking every 10 ms; false if it still does not after `timeout`.
public func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
