import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

/// The server's handler on a testing channel, past the handshake, with time driven by hand: the async handler
/// (`Echo` with a delay) sleeps in real time, so only the handler's own deadline timer can answer it in these tests.
@Suite("Server handler on a testing channel")
struct WireServerHandlerTests {
    /// A channel with the server's handler, handshaken as the gateway.
    private func handshakenChannel(maxInFlightRequests: Int = 8) async throws -> NIOAsyncTestingChannel {
        var router = WireRouter()
        router.registerHealthCheck(service: "handler-test")
        router.register(Echo.self) { request, context in
            try await Task.sleep(for: .milliseconds(request.delayMillis))
            return Echo.Response(value: request.value, text: request.text, traceID: "\(context.traceID)")
        }
        let routes = router
        let configuration = WireServerConfiguration(
            serverName: "handler-test", keys: testKeys, maxInFlightRequestsPerConnection: maxInFlightRequests)
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers(
                FramesAsBytes(),
                WireServerHandler(
                    router: routes, configuration: configuration, serverInFlight: SharedAtomic(0),
                    refusals: HandshakeRefusalLog(), peer: "test", logger: Logger(label: "test"),
                    eventLoop: channel.eventLoop
                ))
        }
        var client = ClientHandshake(role: .gateway, keys: testKeys)
        try await channel.writeInbound(
            WireFrame(header: WireFrameHeader(kind: .hello), payload: client.hello.payload()))
        let challenge = try await channel.waitForOutboundWrite(as: WireFrame.self)
        let proof = try client.answer(try WireChallenge(payload: challenge.payload))
        try await channel.writeInbound(
            WireFrame(header: WireFrameHeader(kind: .authenticate), payload: proof.payload()))
        let ack = try await channel.waitForOutboundWrite(as: WireFrame.self)
        try client.verify(try WireHelloAck(payload: ack.payload))
        return channel
    }

    private func request(_ id: UInt64, method: WireMethodID, timeoutMillis: UInt32 = 0, payload: ByteBuffer)
        -> WireFrame
    {
        WireFrame(
            header: WireFrameHeader(kind: .request, requestID: id, method: method, timeoutMillis: timeoutMillis),
            payload: payload)
    }

    private func slowEcho(_ id: UInt64, timeoutMillis: UInt32 = 0) -> WireFrame {
        request(
            id, method: Echo.id, timeoutMillis: timeoutMillis,
            payload: Echo.Request(value: id, delayMillis: 60_000).payload())
    }

    private func errorReason(_ frame: WireFrame) throws -> WireError {
        #expect(frame.header.kind == .error)
        return try WireErrorPayload(payload: frame.payload).error
    }

    /// An inline handler's answer is written within the read that brought the request: no task, no later turn.
    @Test func anInlineHandlerAnswersWithinTheRead() async throws {
        let channel = try await handshakenChannel()
        try await channel.writeInbound(request(1, method: HealthCheck.id, payload: WireEmpty().payload()))
        let answer = try #require(try await channel.readOutbound(as: WireFrame.self))
        #expect(answer.header.kind == .response && answer.header.requestID == 1)
        #expect(try HealthCheck.Response(payload: answer.payload).service == "handler-test")
        _ = try await channel.finish()
    }

    /// A request that outlives its deadline is answered `deadline_exceeded` when the deadline passes; a shorter
    /// deadline that arrives later still expires first.
    @Test func aRequestPastItsDeadlineGetsTheErrorReply() async throws {
        let channel = try await handshakenChannel()
        try await channel.writeInbound(slowEcho(1, timeoutMillis: 500))
        try await channel.writeInbound(slowEcho(2, timeoutMillis: 100))
        await channel.testingEventLoop.advanceTime(by: .milliseconds(99))
        #expect(try await channel.readOutbound(as: WireFrame.self) == nil)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(1))
        let first = try await channel.waitForOutboundWrite(as: WireFrame.self)
        #expect(first.header.requestID == 2)
        #expect(try errorReason(first).code == .deadlineExceeded)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(400))
        let second = try await channel.waitForOutboundWrite(as: WireFrame.self)
        #expect(second.header.requestID == 1)
        #expect(try errorReason(second).code == .deadlineExceeded)
        _ = try await channel.finish()
    }

    /// Requests that arrive together in one read, and one split over two reads, are each answered: the handler's own
    /// framing takes them as a socket delivers them.
    @Test func requestsAreAnsweredHoweverTheReadsCutThem() async throws {
        let channel = try await handshakenChannel()
        var bytes = ByteBuffer()
        for id in 1...3 {
            request(UInt64(id), method: HealthCheck.id, payload: WireEmpty().payload()).encode(into: &bytes)
        }
        let firstRead = bytes.readSlice(length: bytes.readableBytes - 10)!
        try await channel.readBytes(firstRead)
        #expect(try await channel.readOutbound(as: WireFrame.self)?.header.requestID == 1)
        #expect(try await channel.readOutbound(as: WireFrame.self)?.header.requestID == 2)
        #expect(try await channel.readOutbound(as: WireFrame.self) == nil, "the third is not complete yet")
        try await channel.readBytes(bytes)
        #expect(try await channel.readOutbound(as: WireFrame.self)?.header.requestID == 3)
        _ = try await channel.finish()
    }

    /// A frame over the limit ends the connection with an error frame that says why; a request behind it in the same
    /// read is not run.
    @Test func nothingAfterAFramingErrorIsRun() async throws {
        let channel = try await handshakenChannel()
        var bytes = ByteBuffer()
        request(1, method: HealthCheck.id, payload: WireEmpty().payload()).encode(into: &bytes)
        bytes.writeInteger(UInt32(WireFrame.defaultMaxLength + 1))
        request(2, method: HealthCheck.id, payload: WireEmpty().payload()).encode(into: &bytes)
        try await channel.readBytes(bytes)
        #expect(try await channel.readOutbound(as: WireFrame.self)?.header.requestID == 1)
        let refusal = try #require(try await channel.readOutbound(as: WireFrame.self))
        #expect(refusal.header.requestID == 0)
        #expect(try errorReason(refusal).reason == "frame_too_large")
        #expect(try await channel.readOutbound(as: WireFrame.self) == nil, "the request behind it was not run")
        #expect(!channel.isActive, "the connection is closed")
    }

    /// Requests beyond the per-connection limit are shed at once with `too_many_requests`.
    @Test func requestsOverTheInFlightLimitAreShed() async throws {
        let channel = try await handshakenChannel(maxInFlightRequests: 1)
        try await channel.writeInbound(slowEcho(1))
        try await channel.writeInbound(slowEcho(2))
        let shed = try #require(try await channel.readOutbound(as: WireFrame.self))
        #expect(shed.header.requestID == 2)
        #expect(try errorReason(shed).reason == "too_many_requests")
        _ = try await channel.finish()
    }

    /// Closing the connection cancels the handlers still running, and the connection is finished once they end.
    @Test func closingCancelsRunningHandlers() async throws {
        let channel = try await handshakenChannel()
        try await channel.writeInbound(slowEcho(1))
        let finished = try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.handler(type: WireServerHandler.self).finished.futureResult
        }
        try await channel.close()
        // The handler sleeps for a minute unless cancelled: this returns only because the close cancelled it.
        try await finished.get()
        #expect(try await channel.readOutbound(as: WireFrame.self) == nil, "nothing is answered after the close")
    }
}
