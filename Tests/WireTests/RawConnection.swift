import NIOCore
import NIOPosix
import Synchronization

@testable import Wire

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

    /// Runs the whole handshake as `role` with `keys`; the server's helloAck, or `nil` when it answered otherwise.
    func handshake(role: WirePeerRole = .gateway, keys: WireServiceKeys = testKeys) async throws -> WireHelloAck? {
        let nonce = HandshakeProof.makeNonce()
        guard let challenge = try await hello(role: role.rawValue, nonce: nonce) else { return nil }
        let proof = HandshakeProof.proof(
            .client, key: keys.current, clientNonce: nonce, serverNonce: challenge.nonce, role: role.rawValue)
        guard let frame = try await authenticate(proof: proof), frame.header.kind == .helloAck else { return nil }
        return try WireHelloAck(payload: frame.payload)
    }

    /// Sends a hello; the server's challenge, or `nil` when it answered otherwise.
    func hello(role: String, nonce: ByteBuffer) async throws -> WireChallenge? {
        try await send(
            WireFrame(header: WireFrameHeader(kind: .hello), payload: WireHello(role: role, nonce: nonce).payload()))
        guard let frame = try await nextFrame(), frame.header.kind == .challenge else { return nil }
        return try WireChallenge(payload: frame.payload)
    }

    /// Sends an authenticate frame with `proof`; the server's next frame (helloAck, or an error), `nil` if it closed.
    func authenticate(proof: ByteBuffer) async throws -> WireFrame? {
        try await send(
            WireFrame(header: WireFrameHeader(kind: .authenticate), payload: WireAuthenticate(proof: proof).payload()))
        return try await nextFrame()
    }

    func close() async {
        try? await channel.close()
    }
}
