import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import RedisCluster

@Suite struct RedisConnectionHandlerTests {
    private static let address = RedisNodeAddress(host: "127.0.0.1", port: 6379)
    private let health = RedisConnectionHealth()

    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RedisConnectionHandler(address: Self.address, health: health, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    private func send(
        _ commands: [RedisCommand], on channel: EmbeddedChannel, timeout: Duration = .seconds(5)
    ) -> EventLoopFuture<[RedisValue]> {
        // Like `RedisConnection.execute`: a write that never reaches the handler (the channel has closed and
        // dropped its handlers) fails the batch as well.
        let promise = channel.eventLoop.makePromise(of: [RedisValue].self)
        channel.writeAndFlush(RedisCommandBatch(commands: commands, timeout: timeout, promise: promise)).whenFailure {
            _ in promise.fail(RedisError(.unavailable, "not sent"))
        }
        return promise.futureResult
    }

    /// The outcome of `future` if it has completed; the embedded loop runs callbacks at once.
    private func outcome<T>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
        var outcome: Result<T, any Error>?
        future.assumeIsolated().whenComplete { outcome = $0 }
        return outcome
    }

    private func errorCode<T>(_ future: EventLoopFuture<T>) -> RedisError.Code? {
        guard case .failure(let error) = outcome(future) else { return nil }
        return (error as? RedisError)?.code
    }

    @Test func writesEachBatchAtOnceAndMatchesRepliesInOrder() throws {
        let channel = try channel()
        let first = send([RedisCommand("SET", key: "a", "1"), RedisCommand("GET", key: "a")], on: channel)
        let second = send([RedisCommand("PING")], on: channel)

        let firstWrite = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: firstWrite) == "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
        #expect(String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self))) == "*1\r\n$4\r\nPING\r\n")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        try channel.writeInbound(ByteBuffer(string: "+OK\r\n$1\r"))
        #expect(outcome(first) == nil, "the batch completes only with its last reply")
        try channel.writeInbound(ByteBuffer(string: "\n1\r\n+PONG\r\n"))
        #expect(try outcome(first)?.get() == [.simpleString("OK"), RedisValue(bulk: "1")])
        #expect(try outcome(second)?.get() == [.simpleString("PONG")])
    }

    @Test func errorRepliesAreValuesNotFailures() throws {
        let channel = try channel()
        let batch = send([RedisCommand("INCR", key: "s"), RedisCommand("GET", key: "s")], on: channel)
        try channel.writeInbound(ByteBuffer(string: "-ERR value is not an integer\r\n$1\r\nx\r\n"))
        #expect(try outcome(batch)?.get() == [.error("ERR value is not an integer"), RedisValue(bulk: "x")])
    }

    @Test func closingFailsEveryWaitingBatch() throws {
        let channel = try channel()
        let first = send([RedisCommand("PING")], on: channel)
        let second = send([RedisCommand("PING")], on: channel)
        try channel.close().wait()
        #expect(errorCode(first) == .connectionClosed)
        #expect(errorCode(second) == .connectionClosed)
        #expect(health.isBroken)
    }

    @Test func aTimeoutFailsEverythingAndClosesTheConnection() throws {
        let channel = try channel()
        let slow = send([RedisCommand("PING")], on: channel, timeout: .milliseconds(100))
        let later = send([RedisCommand("PING")], on: channel, timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(outcome(slow) == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(errorCode(slow) == .timeout)
        #expect(errorCode(later) == .timeout)
        #expect(!channel.isActive && health.isBroken)
        #expect(errorCode(send([RedisCommand("PING")], on: channel)) == .unavailable, "a closed one takes no more")
    }

    @Test func aTimelyReplyCancelsTheTimeout() throws {
        let channel = try channel()
        let batch = send([RedisCommand("PING")], on: channel, timeout: .milliseconds(100))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try outcome(batch)?.get() == [.simpleString("PONG")])
        #expect(channel.isActive && !health.isBroken)
    }

    /// The batches' deadlines share one timer: a stream of batches each answered in time keeps the connection over
    /// many timeout periods, and a batch answered late after an earlier one was answered in time still times out at
    /// its own deadline (the timer, armed for the first, moves on to it).
    @Test func batchesShareOneTimerAndEachStillTimesOutAtItsOwnDeadline() throws {
        let channel = try channel()
        for _ in 0..<5 {
            let batch = send([RedisCommand("PING")], on: channel, timeout: .milliseconds(100))
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))
            try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
            #expect(try outcome(batch)?.get() == [.simpleString("PONG")])
        }
        #expect(channel.isActive && !health.isBroken)

        let first = send([RedisCommand("PING")], on: channel, timeout: .milliseconds(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(50))
        let second = send([RedisCommand("PING")], on: channel, timeout: .milliseconds(100))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(try outcome(first)?.get() == [.simpleString("PONG")])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(outcome(second) == nil, "not yet at its deadline, 150 ms after the first was sent")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(errorCode(second) == .timeout)
        #expect(!channel.isActive && health.isBroken)
    }

    @Test func aReplyNobodyAskedForBreaksTheConnection() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func malformedBytesFailTheWaitingBatchWithAProtocolError() throws {
        let channel = try channel()
        let batch = send([RedisCommand("PING")], on: channel)
        _ = try? channel.writeInbound(ByteBuffer(string: "!garbage\r\n"))
        #expect(errorCode(batch) == .protocolError)
        #expect(!channel.isActive)
    }

    @Test func anEmptyBatchSucceedsAtOnce() throws {
        let channel = try channel()
        #expect(try outcome(send([], on: channel))?.get() == [])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }
}
