import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite("Client handler on an embedded channel")
struct WireClientHandlerTests {
    private let channel = EmbeddedChannel()

    /// A handler on `channel`, handshaken with a server that allows `maxInFlightRequests`.
    private func handshakenHandler(maxInFlightRequests: UInt32 = 8) throws -> WireClientHandler {
        let handshake = channel.eventLoop.makePromise(of: WireHelloAck.self)
        let handler = WireClientHandler(
            handshake: ClientHandshake(role: .gateway, keys: testKeys), completion: handshake,
            state: WireClientConnectionState(), logger: Logger(label: "test")
        )
        try channel.pipeline.syncOperations.addHandlers(FramesAsBytes(), handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try EmbeddedServerHandshake(channel: channel, keys: testKeys).acknowledge(
            maxInFlightRequests: maxInFlightRequests)
        _ = try handshake.futureResult.wait()
        return handler
    }

    @Test func answersCompleteTheirRequestsInAnyOrder() throws {
        let handler = try handshakenHandler()
        let first = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let second = channel.eventLoop.makePromise(of: ByteBuffer.self)
        handler.send(request(first))
        handler.send(request(second))
        channel.embeddedEventLoop.run()
        let firstFrame = try #require(try channel.readOutbound(as: WireFrame.self))
        let secondFrame = try #require(try channel.readOutbound(as: WireFrame.self))
        try channel.writeInbound(response(to: secondFrame, bytes: 2))
        try channel.writeInbound(response(to: firstFrame, bytes: 1))
        #expect(try first.futureResult.wait().readableBytes == 1)
        #expect(try second.futureResult.wait().readableBytes == 2)
        _ = try channel.finish()
    }

    /// Answers that arrive together in one read, the last of them split over two, each complete their request.
    @Test func answersAreTakenHoweverTheReadsCutThem() throws {
        let handler = try handshakenHandler()
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: ByteBuffer.self) }
        for promise in promises {
            handler.send(request(promise))
        }
        channel.embeddedEventLoop.run()
        var answers = ByteBuffer()
        for bytes in 1...3 {
            let sent = try #require(try channel.readOutbound(as: WireFrame.self))
            response(to: sent, bytes: bytes).encode(into: &answers)
        }
        try channel.readBytes(answers.readSlice(length: answers.readableBytes - 2)!)
        #expect(try promises[0].futureResult.wait().readableBytes == 1)
        #expect(try promises[1].futureResult.wait().readableBytes == 2)
        #expect(!completes(promises[2].futureResult), "the third answer is not complete yet")
        try channel.readBytes(answers)
        #expect(try promises[2].futureResult.wait().readableBytes == 3)
        _ = try channel.finish()
    }

    /// Over the limit the server announced, a request fails at once and is not sent.
    @Test func requestsOverTheServersLimitAreRefused() throws {
        let handler = try handshakenHandler(maxInFlightRequests: 1)
        let sent = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let refused = channel.eventLoop.makePromise(of: ByteBuffer.self)
        handler.send(request(sent))
        handler.send(request(refused))
        channel.embeddedEventLoop.run()
        let error = #expect(throws: WireError.self) { try refused.futureResult.wait() }
        #expect(error?.reason == "too_many_requests")
        let frame = try #require(try channel.readOutbound(as: WireFrame.self))
        #expect(try channel.readOutbound(as: WireFrame.self) == nil, "only the first request was sent")
        try channel.writeInbound(response(to: frame, bytes: 0))
        #expect(try sent.futureResult.wait().readableBytes == 0)
        _ = try channel.finish()
    }

    /// One timer serves every deadline: a short request sent after a long one still fails first, at its deadline,
    /// and a late answer to it is dropped.
    @Test func aRequestFailsWithDeadlineExceededAtItsDeadline() throws {
        let handler = try handshakenHandler()
        let long = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let short = channel.eventLoop.makePromise(of: ByteBuffer.self)
        handler.send(request(long, timeout: .milliseconds(500)))
        handler.send(request(short, timeout: .milliseconds(100)))
        channel.embeddedEventLoop.run()
        _ = try channel.readOutbound(as: WireFrame.self)
        let shortFrame = try #require(try channel.readOutbound(as: WireFrame.self))
        #expect(shortFrame.header.timeoutMillis == 100, "the server learns the caller's budget")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(!completes(short.futureResult))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(throws: WireError.deadlineExceeded) { try short.futureResult.wait() }
        #expect(!completes(long.futureResult))
        try channel.writeInbound(response(to: shortFrame, bytes: 3))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(400))
        #expect(throws: WireError.deadlineExceeded) { try long.futureResult.wait() }
        _ = try channel.finish()
    }

    /// Requests in flight fail when the connection closes, and a request sent afterwards fails at once.
    @Test func aClosedConnectionFailsItsRequests() throws {
        let handler = try handshakenHandler()
        let inFlight = channel.eventLoop.makePromise(of: ByteBuffer.self)
        handler.send(request(inFlight))
        try channel.close().wait()
        #expect(throws: WireError.self) { try inFlight.futureResult.wait() }
        let late = channel.eventLoop.makePromise(of: ByteBuffer.self)
        handler.send(request(late))
        let error = #expect(throws: WireError.self) { try late.futureResult.wait() }
        #expect(error?.code == .unavailable)
    }

    /// Whether `future` has completed (an embedded event loop runs callbacks at once).
    private func completes<Value>(_ future: EventLoopFuture<Value>) -> Bool {
        var completed = false
        future.assumeIsolated().whenComplete { _ in completed = true }
        return completed
    }

    private func request(_ promise: EventLoopPromise<ByteBuffer>, timeout: Duration = .seconds(5))
        -> WireOutboundRequest
    {
        WireOutboundRequest(
            method: WireMethodID(rawValue: 7), payload: ByteBuffer(), timeout: timeout,
            traceID: WireTraceID(high: 1, low: 2), promise: promise)
    }

    private func response(to request: WireFrame, bytes: Int) -> WireFrame {
        WireFrame(
            header: WireFrameHeader(kind: .response, requestID: request.header.requestID),
            payload: ByteBuffer(repeating: 0, count: bytes))
    }
}
