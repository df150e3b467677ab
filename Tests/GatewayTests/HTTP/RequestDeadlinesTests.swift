import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Gateway

/// The read and write deadlines of ``RequestBodyGuardHandler`` on a virtual clock: one timer per connection, which a
/// request or answer finished in time does not cancel, must still close a connection exactly when the request or
/// answer under way is overdue.
@Suite("Request deadlines with one timer per connection")
struct RequestDeadlinesTests {
    private static func channel() throws -> EmbeddedChannel {
        var limits = GatewayConfiguration.Limits()
        limits.requestReadTimeout = .seconds(10)
        limits.responseWriteTimeout = .seconds(10)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RequestBodyGuardHandler(limits: limits, logger: Logger(label: "deadline-tests")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        #expect(channel.isActive)
        return channel
    }

    private static let head = RequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "x", path: "/"))

    @Test func aRequestStartedLaterIsGivenItsWholeTimeoutByTheTimerAnEarlierOneSet() throws {
        let channel = try Self.channel()
        // A request that arrives whole at once, then one that starts 6 s later and never ends.
        try channel.writeInbound(Self.head)
        try channel.writeInbound(RequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeInbound(Self.head)
        // The timer set by the first request fires at 10 s: the second has had 4 s of its 10.
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "not closed at 11 s: the request under way began at 6 s")
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "not closed at 15 s either")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(channel.isActive == false, "closed at 16 s, its own deadline")
    }

    @Test func aConnectionWhoseRequestsAllArriveInTimeStaysOpen() throws {
        let channel = try Self.channel()
        for _ in 0..<30 {
            try channel.writeInbound(Self.head)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            try channel.writeInbound(RequestPart.end(nil))
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive, "every request arrived within 1 s")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func anAnswerThatDoesNotLeaveInTimeClosesTheConnection() throws {
        let channel = try Self.channel()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(RequestPart.end(nil))
        // An answer written in full at 0 s, then one whose end is never written.
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(ResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "at 11 s the answer under way has had 5 s")
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive == false, "closed at 16 s")
    }
}
