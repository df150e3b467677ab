import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite("Client handler on an embedded channel")
struct WireClientHandlerTests {
    /// The caller's write promise completes once the frame is written, and again when the request is refused over
    /// the in-flight limit. A write promise that never completes keeps its callbacks, the response promise and the
    /// answer's bytes alive: one leak per call.
    @Test func everyWritePromiseCompletes() throws {
        let channel = EmbeddedChannel()
        let handshake = channel.eventLoop.makePromise(of: WireHelloAck.self)
        let handler = WireClientHandler(
            handshake: ClientHandshake(role: .gateway, keys: testKeys), completion: handshake,
            state: WireClientConnectionState(),
            logger: Logger(label: "test")
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let serverSide = try EmbeddedServerHandshake(channel: channel, keys: testKeys)

        let written = channel.eventLoop.makePromise(of: Void.self)
        let answer = channel.eventLoop.makePromise(of: ByteBuffer.self)
        channel.writeAndFlush(request(answer), promise: written)
        #expect(completes(written.futureResult))
        let frame = try #require(try channel.readOutbound(as: WireFrame.self))
        #expect(frame.header.kind == .request)

        // One request in flight is the limit the server announced; the next is refused, and so is its write.
        try serverSide.acknowledge(maxInFlightRequests: 1)
        #expect(completes(handshake.futureResult))
        let refusedWrite = channel.eventLoop.makePromise(of: Void.self)
        let refusedAnswer = channel.eventLoop.makePromise(of: ByteBuffer.self)
        channel.writeAndFlush(request(refusedAnswer), promise: refusedWrite)
        #expect(completes(refusedWrite.futureResult))
        #expect(throws: WireError.self) { try refusedWrite.futureResult.wait() }
        #expect(throws: WireError.self) { try refusedAnswer.futureResult.wait() }

        try channel.writeInbound(
            WireFrame(
                header: WireFrameHeader(kind: .response, requestID: frame.header.requestID), payload: ByteBuffer()))
        #expect(try answer.futureResult.wait().readableBytes == 0)
        _ = try channel.finish()
    }

    /// Whether `future` has completed (an embedded event loop runs callbacks at once).
    private func completes<Value>(_ future: EventLoopFuture<Value>) -> Bool {
        var completed = false
        future.assumeIsolated().whenComplete { _ in completed = true }
        return completed
    }

    private func request(_ promise: EventLoopPromise<ByteBuffer>) -> WireOutboundRequest {
        WireOutboundRequest(
            method: WireMethodID(rawValue: 7), payload: ByteBuffer(), timeout: .seconds(5),
            traceID: WireTraceID(high: 1, low: 2), promise: promise)
    }
}
