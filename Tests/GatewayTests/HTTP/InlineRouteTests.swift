import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import Wire

@testable import Gateway

/// ``InlineAnswerHandler`` with an ``InlineRoute`` on a testing channel: which requests it reads whole for the route,
/// that the answer goes out when the route's future completes, that nothing on the connection overtakes it (what
/// arrives meanwhile is held, and no more is read), and that its read deadline and a graceful shutdown are kept.
@Suite("Routes answered on the event loop")
struct InlineRouteTests {
    private static let limits = GatewayConfiguration.Limits(maxBodyBytes: 64)

    /// The route's requests as it received them, each with the promise that answers it.
    private final class RouteCalls: Sendable {
        let calls = NIOLockedValueBox<[(request: InlineRequest, promise: EventLoopPromise<InlineResponse>)]>([])

        var count: Int { calls.withLockedValue { $0.count } }

        func answer(_ index: Int, status: HTTPResponseStatus = .created, body: String) {
            let promise = calls.withLockedValue { $0[index].promise }
            promise.succeed(
                InlineResponse(
                    status: status, headers: ["Content-Type": "application/json"], body: ByteBuffer(string: body)))
        }

        func fail(_ index: Int) {
            let promise = calls.withLockedValue { $0[index].promise }
            promise.fail(ChannelError.ioOnClosedChannel)
        }

        func request(_ index: Int) -> InlineRequest {
            calls.withLockedValue { $0[index].request }
        }
    }

    /// Counts the reads asked of the socket (it sits where the socket is, below the handler).
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// Records the user events that reach the handlers above.
    private final class EventRecorder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        var quiesceEvents = 0
        var inputClosedEvents = 0
        var errors = 0

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors += 1
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent {
                quiesceEvents += 1
            }
            if case ChannelEvent.inputClosed = event {
                inputClosedEvents += 1
            }
            context.fireUserInboundEventTriggered(event)
        }
    }

    private struct Fixture {
        let channel: EmbeddedChannel
        let calls: RouteCalls
        let reads: ReadCounter
        let events: EventRecorder
    }

    private static func fixture() throws -> Fixture {
        let calls = RouteCalls()
        let route = InlineRoute(method: .POST, path: "/api/v1/tweets") { request, executor in
            let promise = executor.eventLoop.makePromise(of: InlineResponse.self)
            calls.calls.withLockedValue { $0.append((request, promise)) }
            return promise.futureResult
        }
        let reads = ReadCounter()
        let events = EventRecorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            reads,
            InlineAnswerHandler(
                answers: [.health], routes: [route], limits: limits, metrics: GatewayMetrics(),
                logger: GatewayHarness.logger),
            events,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return Fixture(channel: channel, calls: calls, reads: reads, events: events)
    }

    private static func post(
        _ body: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders? = nil
    ) -> HTTPServerRequestPart {
        let headers = headers ?? ["Content-Length": String(body.utf8.count), "Authorization": "Bearer t"]
        return .head(HTTPRequestHead(version: version, method: .POST, uri: "/api/v1/tweets?x=1", headers: headers))
    }

    private static func send(_ parts: [HTTPServerRequestPart], to channel: EmbeddedChannel) throws {
        for part in parts {
            try channel.writeInbound(part)
        }
    }

    @Test func aRouteRequestIsReadWholeAndAnsweredWhenItsFutureCompletes() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        try Self.send(
            [
                Self.post(#"{"text":"hi"}"#), .body(ByteBuffer(string: #"{"text""#)),
                .body(ByteBuffer(string: #":"hi"}"#)), .end(nil),
            ], to: channel)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil, "nothing reaches Hummingbird")
        #expect(fixture.calls.count == 1)
        let request = fixture.calls.request(0)
        #expect(String(buffer: request.body) == #"{"text":"hi"}"#, "the body's parts, whole")
        #expect(request.head.uri == "/api/v1/tweets?x=1")
        #expect(request.head.headers["Authorization"] == ["Bearer t"])
        #expect(request.remoteAddress?.port == 443)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "no answer before the route's")
        let readsBefore = fixture.reads.reads
        channel.read()
        #expect(fixture.reads.reads == readsBefore + 1, "with nothing behind the request, the socket is read as usual")

        fixture.calls.answer(0, body: #"{"id":"1"}"#)
        let (head, body) = try #require(try channel.readHTTPAnswer(), "written and flushed at once")
        #expect(head.status == .created)
        #expect(head.version == .http1_1)
        #expect(body == #"{"id":"1"}"#)
        #expect(head.headers["Content-Type"] == ["application/json"])
        #expect(head.headers["Content-Length"] == ["10"])
        #expect(head.headers["Date"].first?.hasSuffix(" GMT") == true)
    }

    @Test func requestsTheRouteCannotTakeGoOnToHummingbird() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        let passedOn: [HTTPServerRequestPart] = [
            .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v1/tweets")),
            .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/v1/tweets/1")),
            Self.post("{}", headers: ["Transfer-Encoding": "chunked"]),
            Self.post("{}", headers: ["Content-Length": "65"]),  // over the limit: the body guard's 413
            Self.post("{}", headers: ["Content-Length": "x"]),
            Self.post("{}", headers: ["Content-Length": "2", "Expect": "100-continue"]),
            Self.post("{}", headers: ["Content-Length": "2", "Connection": "close"]),
            Self.post("{}", version: .http1_0),
        ]
        for request in passedOn {
            try Self.send([request, .end(nil)], to: channel)
            #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == request)
            #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        }
        #expect(fixture.calls.count == 0)
    }

    @Test func aRouteRequestNeverOvertakesAnAnswerStillOwedAbove() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        let owed = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v1/users"))
        try Self.send([owed, .end(nil), Self.post("{}"), .body(ByteBuffer(string: "{}")), .end(nil)], to: channel)
        #expect(fixture.calls.count == 0)
        var parts = 0
        while try channel.readInbound(as: HTTPServerRequestPart.self) != nil {
            parts += 1
        }
        #expect(parts == 5, "both requests went on, in order")
    }

    @Test func whatArrivesWhileARouteAnswerIsOwedWaitsForItAndNoMoreIsRead() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        try Self.send([Self.post("{}"), .body(ByteBuffer(string: "{}")), .end(nil)], to: channel)
        // Pipelined behind it: a health check, a second tweet, a request for Hummingbird.
        let other = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v1/users"))
        try Self.send(
            [
                .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")), .end(nil),
                Self.post("[]"), .body(ByteBuffer(string: "[]")), .end(nil), other, .end(nil),
            ], to: channel)
        let readsBefore = fixture.reads.reads
        channel.read()
        #expect(fixture.reads.reads == readsBefore, "no more is read from the socket while the answer is owed")
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "nothing overtakes the answer")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        #expect(fixture.calls.count == 1)

        fixture.calls.answer(0, body: "first")
        #expect(try channel.readHTTPAnswer()?.1 == "first")
        #expect(try channel.readHTTPAnswer()?.1 == #"{"status":"ok"}"#, "then the health check, in order")
        #expect(fixture.calls.count == 2, "then the second tweet is taken")
        #expect(String(buffer: fixture.calls.request(1).body) == "[]")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil, "the last still waits")
        #expect(fixture.reads.reads == readsBefore, "and still nothing is read")

        fixture.calls.answer(1, status: .badRequest, body: "second")
        #expect(try channel.readHTTPAnswer()?.0.status == .badRequest)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == other, "the last goes on to Hummingbird")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        #expect(fixture.reads.reads == readsBefore + 1, "the read held back is asked for once nothing is owed here")
    }

    @Test func aRouteRequestWhoseBodyDoesNotArriveInTimeClosesTheConnection() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        try Self.send([Self.post("{}"), .body(ByteBuffer(string: "{"))], to: channel)
        channel.embeddedEventLoop.advanceTime(by: TimeAmount(Self.limits.requestReadTimeout) - .seconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed at the read timeout")
        #expect(fixture.calls.count == 0)
    }

    /// What comes from below while a tweet's answer is owed (`fire`), seen above (`seen`) only once it is written.
    private static func expectHeldUntilAnswered(
        _ fire: (ChannelPipeline) -> Void, seen: (EventRecorder) -> Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Fixture {
        let fixture = try Self.fixture()
        try Self.send([Self.post("{}"), .body(ByteBuffer(string: "{}")), .end(nil)], to: fixture.channel)
        fire(fixture.channel.pipeline)
        #expect(seen(fixture.events) == 0, "held while the answer is owed", sourceLocation: sourceLocation)
        fixture.calls.answer(0, body: "done")
        #expect(
            try fixture.channel.readHTTPAnswer()?.1 == "done", "the tweet's answer first",
            sourceLocation: sourceLocation)
        #expect(seen(fixture.events) == 1, "handed on once it is written", sourceLocation: sourceLocation)
        return fixture
    }

    @Test func aGracefulShutdownWaitsForTheAnswerOwed() throws {
        let fixture = try Self.expectHeldUntilAnswered(
            { $0.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }, seen: \.quiesceEvents)
        // Nothing more is taken here: Hummingbird decides what the closing connection still answers.
        let late = Self.post("{}")
        try Self.send([late, .body(ByteBuffer(string: "{}")), .end(nil)], to: fixture.channel)
        #expect(try fixture.channel.readInbound(as: HTTPServerRequestPart.self) == late)
        #expect(fixture.calls.count == 1)
    }

    @Test func theClientsEndOfInputWaitsForTheAnswerOwed() throws {
        // A client that half-closes once its request is sent (`shutdown(SHUT_WR)`), then reads its answer.
        let fixture = try Self.expectHeldUntilAnswered(
            { $0.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }, seen: \.inputClosedEvents)
        // With nothing owed, it goes on at once.
        fixture.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(fixture.events.inputClosedEvents == 2)
    }

    @Test func aMalformedRequestBehindTheAnswerOwedIsRefusedAfterIt() throws {
        // The decoder fails on what was pipelined behind: Hummingbird would answer 400 and close at once.
        _ = try Self.expectHeldUntilAnswered({ $0.fireErrorCaught(HTTPParserError.invalidHeaderToken) }, seen: \.errors)
    }

    @Test func aRouteThatFailsClosesTheConnection() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        try Self.send([Self.post("{}"), .body(ByteBuffer(string: "{}")), .end(nil)], to: channel)
        fixture.calls.fail(0)
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test func afterARouteAnswerTheIdleTimeoutRunsAgain() throws {
        let fixture = try Self.fixture()
        let channel = fixture.channel
        try Self.send([Self.post("{}"), .body(ByteBuffer(string: "{}")), .end(nil)], to: channel)
        let idleTimeout = TimeAmount(Self.limits.idleTimeout)
        channel.embeddedEventLoop.advanceTime(by: idleTimeout * 2)
        #expect(channel.isActive, "a request being answered is not idleness")
        fixture.calls.answer(0, body: "done")
        channel.embeddedEventLoop.advanceTime(by: idleTimeout - .seconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}
