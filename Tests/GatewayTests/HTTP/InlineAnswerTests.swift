import Hummingbird
import NIOCore
import NIOEmbedded
import Testing

@testable import Gateway

/// ``InlineAnswerHandler`` on a testing channel: which requests it answers on the event loop, that it never answers
/// out of order, and that its answer is the route's answer with the headers every answer carries.
@Suite("Answers on the event loop")
struct InlineAnswerTests {
    private static func channel(metrics: GatewayMetrics = GatewayMetrics()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(InlineAnswerHandler(answers: [.health], metrics: metrics))
        return channel
    }

    private static func request(
        _ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]
    ) -> RequestPart {
        .head(HTTPRequest(method: method, scheme: nil, authority: "x", path: path, headerFields: headers))
    }

    /// Reads one whole answer the handler wrote: head, body bytes, end.
    private static func readAnswer(_ channel: EmbeddedChannel) throws -> (HTTPResponse, String)? {
        guard case .head(let head) = try channel.readOutbound(as: ResponsePart.self) else { return nil }
        var body = ""
        while let part = try channel.readOutbound(as: ResponsePart.self) {
            switch part {
            case .body(let bytes): body += String(buffer: bytes)
            case .end: return (head, body)
            case .head: Issue.record("a second head before the end")
            }
        }
        Issue.record("no end")
        return nil
    }

    @Test func healthIsAnsweredOnTheEventLoopWithOneFlushPerReadBurst() throws {
        let metrics = GatewayMetrics()
        let channel = try Self.channel(metrics: metrics)
        // One read burst (writeInbound would end each part's read with its own channelReadComplete).
        for _ in 0..<3 {
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.request("/healthz")))
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(RequestPart.end(nil)))
        }
        #expect(try channel.readInbound(as: RequestPart.self) == nil, "nothing reaches Hummingbird")
        #expect(try channel.readOutbound(as: ResponsePart.self) == nil, "nothing leaves before the read burst ends")
        channel.pipeline.fireChannelReadComplete()
        for _ in 0..<3 {
            let (head, body) = try #require(try Self.readAnswer(channel))
            #expect(head.status == .ok)
            #expect(body == #"{"status":"ok"}"#)
            #expect(head.headerFields[.contentType] == "application/json")
            #expect(head.headerFields[.contentLength] == "15")
            #expect(head.headerFields[GatewayResponder.requestIDField]?.count == 32)
            #expect(head.headerFields[SecurityHeaders.contentTypeOptions] == "nosniff")
            #expect(head.headerFields[SecurityHeaders.strictTransportSecurity] == SecurityHeaders.hstsValue)
            #expect(head.headerFields[.date]?.hasSuffix(" GMT") == true)
            #expect(head.headerFields[.cacheControl] == nil)
        }
        let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(exposition.contains(#"route="/healthz""#), "inline answers are counted like the others")
    }

    @Test func aBodyIsReadAndDroppedAndAQueryDoesNotChangeTheRoute() throws {
        let channel = try Self.channel()
        try channel.writeInbound(Self.request("/healthz?probe=1", headers: [.authorization: "Bearer t"]))
        try channel.writeInbound(RequestPart.body(ByteBuffer(string: "ignored")))
        #expect(try channel.readOutbound(as: ResponsePart.self) == nil, "answered only once the request has ended")
        try channel.writeInbound(RequestPart.end(nil))
        let (head, _) = try #require(try Self.readAnswer(channel))
        #expect(head.status == .ok)
        #expect(head.headerFields[.cacheControl] == "no-store", "a request with credentials is never cached")
        #expect(try channel.readInbound(as: RequestPart.self) == nil)
    }

    @Test func otherRequestsGoOnToHummingbird() throws {
        let channel = try Self.channel()
        let passedOn = [
            Self.request("/api/v1/timelines/public"),
            Self.request("/healthz", method: .post),
            Self.request("/healthz", method: .head),
            Self.request("/healthz", headers: [.connection: "close"]),
            Self.request("/healthz/"),
        ]
        for request in passedOn {
            try channel.writeInbound(request)
            try channel.writeInbound(RequestPart.end(nil))
            #expect(try channel.readInbound(as: RequestPart.self) == request)
            #expect(try channel.readInbound(as: RequestPart.self) == .end(nil))
            // Hummingbird's answer, so that the next request is not behind one still owed.
            try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(ResponsePart.end(nil))
            _ = try channel.readOutbound(as: ResponsePart.self)
            _ = try channel.readOutbound(as: ResponsePart.self)
        }
    }

    @Test func anInlineRequestNeverOvertakesAnAnswerStillOwed() throws {
        let channel = try Self.channel()
        // A pipelined read: a request for Hummingbird, then two health checks before its answer.
        let slow = Self.request("/api/v1/timelines/public")
        for request in [slow, Self.request("/healthz"), Self.request("/healthz")] {
            try channel.writeInbound(request)
            try channel.writeInbound(RequestPart.end(nil))
        }
        #expect(try channel.readOutbound(as: ResponsePart.self) == nil, "nothing answered ahead of the first request")
        var passedOn: [RequestPart] = []
        while let part = try channel.readInbound(as: RequestPart.self) {
            passedOn.append(part)
        }
        #expect(passedOn.count == 6, "all three went on, in order")
        // Hummingbird answers the three; then a health check may be answered inline again.
        for _ in 0..<3 {
            try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(ResponsePart.end(nil))
        }
        while try channel.readOutbound(as: ResponsePart.self) != nil {}
        try channel.writeInbound(Self.request("/healthz"))
        try channel.writeInbound(RequestPart.end(nil))
        #expect(try channel.readInbound(as: RequestPart.self) == nil)
        #expect(try Self.readAnswer(channel)?.1 == #"{"status":"ok"}"#)
    }

    @Test func datesAreIMFFixdates() {
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateCache.imfFixdate(unixSeconds: 1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }
}
