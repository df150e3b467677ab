import NIOCore
import NIOPosix

/// The floor Wire is compared with: a bare SwiftNIO TCP echo server and a client that sends fixed-size frames and
/// waits for the same number of bytes back. No header parsing, no request ids, no deadlines, no tasks on the server.
enum EchoBaseline {
    /// Binds the echo server on `host` with a free port.
    static func bindServer(host: String, eventLoopGroup: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoServerHandler())
                }
            }
            .bind(host: host, port: 0)
            .get()
    }
}

/// Writes back whatever it reads, flushing once per read burst.
final class EchoServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A frame on its way out and the promise its echo completes.
struct EchoRequest {
    var frame: ByteBuffer
    var promise: EventLoopPromise<Void>
}

/// The client side of one echo connection, on its event loop. TCP keeps the echoes in order, so the answer to the
/// oldest outstanding request is simply the next `frameSize` bytes.
final class EchoClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = EchoRequest
    typealias OutboundOut = ByteBuffer

    private let frameSize: Int
    private var pending = CircularBuffer<EventLoopPromise<Void>>(initialCapacity: 64)
    private var bytesOfNextFrame = 0

    init(frameSize: Int) {
        self.frameSize = frameSize
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending.append(request.promise)
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesOfNextFrame += unwrapInboundIn(data).readableBytes
        while bytesOfNextFrame >= frameSize, let promise = pending.popFirst() {
            bytesOfNextFrame -= frameSize
            promise.succeed()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let failed = pending
        pending.removeAll()
        for promise in failed {
            promise.fail(ChannelError.ioOnClosedChannel)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// `connections` echo connections; worker `i` always uses connection `i % connections`.
final class EchoClient: RoundTripper {
    private let channels: [any Channel]
    private let frame: ByteBuffer

    private init(channels: [any Channel], frame: ByteBuffer) {
        self.channels = channels
        self.frame = frame
    }

    static func connect(
        host: String,
        port: Int,
        connections: Int,
        frameSize: Int,
        eventLoopGroup: any EventLoopGroup
    ) async throws -> EchoClient {
        var channels: [any Channel] = []
        for _ in 0..<connections {
            let channel = try await ClientBootstrap(group: eventLoopGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(EchoClientHandler(frameSize: frameSize))
                    }
                }
                .connect(host: host, port: port)
                .get()
            channels.append(channel)
        }
        return EchoClient(channels: channels, frame: ByteBuffer(repeating: 0xA5, count: frameSize))
    }

    func roundTrip(worker: Int) async throws {
        let channel = channels[worker % channels.count]
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(EchoRequest(frame: frame, promise: promise)).whenFailure { error in
            // A promise completed twice keeps its first result, so this is safe even when the handler queued it.
            promise.fail(error)
        }
        try await promise.futureResult.get()
    }

    func close() async {
        for channel in channels {
            try? await channel.close()
        }
    }
}
