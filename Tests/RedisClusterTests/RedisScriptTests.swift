import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import RedisCluster

/// Scripts called by digest once the connection has run them, by body until then (``RedisScript``).
@Suite struct RedisScriptTests {
    private static let script = RedisScript("return 1")

    @Test func theDigestIsRedisSHA1OfTheBody() {
        // What `SCRIPT LOAD "return 1"` answers.
        #expect(String(decoding: Self.script.digest, as: UTF8.self) == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test func aCallNamesItsKeysForRouting() throws {
        let command = RedisCommand(script: Self.script, keys: [Array("{u}a".utf8)], arguments: [Array("x".utf8)])
        #expect(command.name == "EVALSHA")
        #expect(command.keys == [Array("{u}a".utf8)])
        #expect(command.withScriptBody.arguments.prefix(2) == [Array("EVAL".utf8), Self.script.source])
    }

    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RedisConnectionHandler(
                address: RedisNodeAddress(host: "127.0.0.1", port: 6379), health: RedisConnectionHealth(),
                logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Sends one call of the script and answers it with `reply`; returns what was written.
    private func call(on channel: EmbeddedChannel, answering reply: String) throws -> String {
        let promise = channel.eventLoop.makePromise(of: [RedisValue].self)
        let command = RedisCommand(script: Self.script, keys: [], arguments: [])
        channel.writeAndFlush(RedisCommandBatch(commands: [command], timeout: .seconds(5), promise: promise))
            .whenFailure { promise.fail($0) }
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        try channel.writeInbound(ByteBuffer(string: reply))
        return String(buffer: written)
    }

    private static let byBody = "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n"
    private static let byDigest =
        "*3\r\n$7\r\nEVALSHA\r\n$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n$1\r\n0\r\n"

    @Test func theBodyGoesUntilACallSucceedsThenTheDigest() throws {
        let channel = try channel()
        #expect(try call(on: channel, answering: "-OOM command not allowed\r\n") == Self.byBody)
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byBody, "a refused call loaded nothing")
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byDigest)
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byDigest)
    }

    @Test func aServerThatLostTheScriptIsSentTheBodyAgain() throws {
        let channel = try channel()
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byBody)
        #expect(try call(on: channel, answering: "-NOSCRIPT No matching script.\r\n") == Self.byDigest)
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byBody)
        #expect(try call(on: channel, answering: ":1\r\n") == Self.byDigest)
    }
}

extension RedisScriptTests {
    /// Script calls among other commands, and a second batch written before the first is answered: each reply is
    /// matched to its own call, and only calls that succeeded with the body teach the connection the digest.
    @Test func repliesAreMatchedToTheirCallsAcrossMixedAndOverlappingBatches() throws {
        let channel = try channel()
        let other = RedisScript("return 2")
        let call = RedisCommand(script: Self.script, keys: [], arguments: [])
        let otherCall = RedisCommand(script: other, keys: [], arguments: [])
        func write(_ commands: [RedisCommand]) throws -> String {
            let promise = channel.eventLoop.makePromise(of: [RedisValue].self)
            channel.writeAndFlush(RedisCommandBatch(commands: commands, timeout: .seconds(5), promise: promise))
                .whenFailure { promise.fail($0) }
            return String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        }
        let otherBody = "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 2\r\n$1\r\n0\r\n"
        let get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        #expect(
            try write([call, RedisCommand("GET", key: "k"), otherCall, call])
                == Self.byBody + get + otherBody + Self.byBody)
        #expect(try write([otherCall]) == otherBody, "nothing is known before the replies come")
        // The first call of the script fails, the other script's first call too; the second call of the script and
        // the other script's call in the second batch succeed.
        try channel.writeInbound(ByteBuffer(string: "-ERR boom\r\n$-1\r\n-OOM no\r\n:1\r\n:2\r\n"))
        #expect(
            try write([call, otherCall]) == Self.byDigest + String(decoding: other.digest, as: UTF8.self).withEvalSHA)
    }
}

extension String {
    /// The RESP of `EVALSHA <self> 0`.
    fileprivate var withEvalSHA: String { "*3\r\n$7\r\nEVALSHA\r\n$40\r\n\(self)\r\n$1\r\n0\r\n" }
}
