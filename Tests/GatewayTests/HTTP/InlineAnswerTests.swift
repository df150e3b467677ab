import Hummingbird
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Gateway

/// ``InlineAnswerHandler`` on a testing channel, where it sits in the Gateway: right after NIO's HTTP/1 decoder. Which
/// requests it answers on the event loop, that it never answers out of order, that its answer is the route's answer
/// with the headers every answer carries, and that it keeps the connection's idle timeout.
@Suite("Answers on the event loop")
struct InlineAnswerTests {
    private static let idleTimeout = TimeAmount(GatewayConfiguration.Limits().idleTimeout)

    private static func channel(metrics: GatewayMetrics = GatewayMetrics()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            InlineAnswerHandler(
                answers: [.health], limits: GatewayConfiguration.Limits(), metrics: metrics,
                logger: GatewayHarness.logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return channel
    }

    private static func request(
        _ uri: String, method: HTTPMethod = .GET, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:]
    ) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: version, method: method, uri: uri, headers: headers))
    }

    /// Hummingbird's answer to a request passed on.
    private static func answerPassedOn(_ channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
    }

    @Test func healthIsAnsweredOnTheEventLoopWithOneFlushPerReadBurst() throws {
        let metrics = GatewayMetrics()
        let channel = try Self.channel(metrics: metrics)
        // One read burst (writeInbound would end each part's read with its own channelReadComplete).
        for _ in 0..<3 {
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.request("/healthz")))
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
        }
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil, "nothing reaches Hummingbird")
        #expect(
            try channel.readOutbound(as: HTTPServerResponsePart.self) == nil,
            "nothing leaves before the read burst ends")
        channel.pipeline.fireChannelReadComplete()
        for _ in 0..<3 {
            let (head, body) = try #require(try channel.readHTTPAnswer())
            #expect(head.status == .ok)
            #expect(head.version == .http1_1)
            #expect(body == #"{"status":"ok"}"#)
            #expect(head.headers["Content-Type"] == ["application/json"])
            #expect(head.headers["Content-Length"] == ["15"])
            #expect(head.headers[GatewayResponder.requestIDField.rawName].first?.count == 32)
            #expect(head.headers[SecurityHeaders.contentTypeOptions.rawName] == ["nosniff"])
            #expect(head.headers[SecurityHeaders.strictTransportSecurity.rawName] == [SecurityHeaders.hstsValue])
            #expect(head.headers["Date"].first?.hasSuffix(" GMT") == true)
            #expect(head.headers["Cache-Control"].isEmpty)
        }
        let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(exposition.contains(#"route="/healthz""#), "inline answers are counted like the others")
    }

    @Test func aQueryDoesNotChangeTheRouteAndCredentialsAreNeverCached() throws {
        let channel = try Self.channel()
        try channel.writeInbound(Self.request("/healthz?probe=1", headers: ["Authorization": "Bearer t"]))
        #expect(
            try channel.readOutbound(as: HTTPServerResponsePart.self) == nil,
            "answered only once the request has ended")
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        let (head, _) = try #require(try channel.readHTTPAnswer())
        #expect(head.status == .ok)
        #expect(head.headers["Cache-Control"] == ["no-store"], "a request with credentials is never cached")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
    }

    @Test func otherRequestsGoOnToHummingbird() throws {
        let channel = try Self.channel()
        let passedOn = [
            Self.request("/api/v1/timelines/public"),
            Self.request("/healthz", method: .POST),
            Self.request("/healthz", method: .HEAD),
            Self.request("/healthz", headers: ["Connection": "close"]),
            Self.request("/healthz", version: .http1_0),
            Self.request("/healthz", headers: ["Content-Length": "7"]),
            Self.request("/healthz", headers: ["Transfer-Encoding": "chunked"]),
            Self.request("/healthz/"),
        ]
        for request in passedOn {
            try channel.writeInbound(request)
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == request)
            #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
            // Hummingbird's answer, so that the next request is not behind one still owed.
            try Self.answerPassedOn(channel)
        }
    }

    @Test func aBodyGoesOnWithItsRequest() throws {
        let channel = try Self.channel()
        let request = Self.request("/healthz", headers: ["Content-Length": "7"])
        try channel.writeInbound(request)
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "checked")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == request)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .body(ByteBuffer(string: "checked")))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test func aClientThatDoesNotReadMeetsHummingbirdsBackpressure() throws {
        let channel = try Self.channel()
        channel.isWritable = false
        try channel.writeInbound(Self.request("/healthz"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == Self.request("/healthz"))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test func anInlineRequestNeverOvertakesAnAnswerStillOwed() throws {
        let channel = try Self.channel()
        // A pipelined read: a request for Hummingbird, then two health checks before its answer.
        let slow = Self.request("/api/v1/timelines/public")
        for request in [slow, Self.request("/healthz"), Self.request("/healthz")] {
            try channel.writeInbound(request)
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        #expect(
            try channel.readOutbound(as: HTTPServerResponsePart.self) == nil,
            "nothing answered ahead of the first request")
        var passedOn: [HTTPServerRequestPart] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            passedOn.append(part)
        }
        #expect(passedOn.count == 6, "all three went on, in order")
        // Hummingbird answers the three; then a health check may be answered inline again.
        for _ in 0..<3 {
            try Self.answerPassedOn(channel)
        }
        try channel.writeInbound(Self.request("/healthz"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        #expect(try channel.readHTTPAnswer()?.1 == #"{"status":"ok"}"#)
    }

    @Test func aConnectionWithNothingAskedOrAnsweredForTheIdleTimeoutIsClosed() throws {
        let channel = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout - .seconds(1))
        // Inline answers count as activity: the timeout starts again after the last one.
        try channel.writeInbound(Self.request("/healthz"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        _ = try channel.readHTTPAnswer()
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(channel.isActive, "an answer 1 s before the timeout keeps the connection")
        // A request passed on is not idleness, however long Hummingbird takes to answer it.
        try channel.writeInbound(Self.request("/api/v1/timelines/public"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout * 2)
        #expect(channel.isActive, "a request still being answered is not idleness")
        try Self.answerPassedOn(channel)
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout - .seconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed once nothing was asked or answered for the idle timeout")
    }

    @Test func afterAnAnswerThatClosesTheConnectionNothingIsAnsweredInline() throws {
        let channel = try Self.channel()
        // An oversized body refused: the answer from above closes the connection.
        let refused = Self.request("/api/v1/tweets", method: .POST, headers: ["Content-Length": "999999"])
        try channel.writeInbound(refused)
        var closing = HTTPResponseHead(version: .http1_1, status: .payloadTooLarge)
        closing.headers.add(name: "Connection", value: "close")
        try channel.writeOutbound(HTTPServerResponsePart.head(closing))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == refused)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        try channel.writeInbound(Self.request("/healthz"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "no answer after the closing one")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == Self.request("/healthz"), "passed on")
    }

    @Test func aConnectionLeftWithRequestsThatAreNeverAnsweredStillTimesOut() throws {
        let channel = try Self.channel()
        // `Connection: close` with a request pipelined behind it: Hummingbird answers the first and closes its side.
        try channel.writeInbound(Self.request("/api/v1/timelines/public", headers: ["Connection": "close"]))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try channel.writeInbound(Self.request("/api/v1/timelines/public"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try Self.answerPassedOn(channel)
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout)
        #expect(!channel.isActive, "the request behind the closing answer does not hold the connection for ever")
    }

    @Test func aLongReadBurstIsFlushedInStepsAndStopsAtAFullSocket() throws {
        let channel = try Self.channel()
        for _ in 0..<InlineAnswerHandler.maxAnswersPerFlush {
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.request("/healthz")))
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
        }
        var answers = 0
        while try channel.readHTTPAnswer() != nil {
            answers += 1
        }
        #expect(answers == InlineAnswerHandler.maxAnswersPerFlush, "flushed before the read burst ends")
        // The socket took no more: the rest of the burst goes on to Hummingbird's backpressure.
        channel.isWritable = false
        channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.request("/healthz")))
        channel.pipeline.syncOperations.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == Self.request("/healthz"))
    }

    @Test func datesAreIMFFixdates() {
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }
}
