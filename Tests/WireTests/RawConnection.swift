import NIOCore
import NIOPosix
import Synchronization
import Wire

/// A TCP connection that sends whatever bytes a test chooses, to play a broken or hostile peer.
final class RawConnection: Sendable {
    /// Hands every received buffer, then the close, to an `AsyncStream`.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation

        init(continuation: AsyncStream<ByteBuffer>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }
    }

    private let channel: any Channel
    private let received: AsyncStream<ByteBuffer>
    private let buffer = Mutex(ByteBuffer())

    init(port: Int) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        received = stream
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
    }

    func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    func send(_ frame: WireFrame) async throws {
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        try await send(buffer)
    }

    /// The next frame from the server, or `nil` once the server has closed the connection.
    func nextFrame() async throws -> WireFrame? {
        var iterator = received.makeAsyncIterator()
        while true {
            if let frame = try buffer.withLock({ try WireFrame.decode(from: &$0, maxLength: 1 << 20) }) {
                return frame
            }
            guard var more = await iterator.next() else { return nil }
            _ = buffer.withLock { $0.writeBuffer(&more) }
        }
    }

    /// Sends a hello and checks the server's helloAck.
    func handshake() async throws -> WireHelloAck? {
        try await send(WireFrame(header: WireFrameHeader(kind: .hello), payload: WireHello(clientName: "raw").payload()))
        guard let frame = try await nextFrame(), frame.header.kind == .helloAck else { return nil }
        return try WireHelloAck(payload: frame.payload)
    }

    func close() async {
        try? await channel.close()
    }
}
