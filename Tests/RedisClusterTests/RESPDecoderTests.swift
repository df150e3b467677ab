import NIOCore
import NIOEmbedded
import Testing

@testable import RedisCluster

@Suite struct RESPDecoderTests {
    /// Every kind of reply, nested arrays with nulls and errors inside, and a bulk string holding CRLF.
    static let stream = [
        "+OK\r\n",
        "-ERR unknown command 'FOO'\r\n",
        ":42\r\n",
        ":-7\r\n",
        "$5\r\nhello\r\n",
        "$0\r\n\r\n",
        "$-1\r\n",
        "*-1\r\n",
        "*0\r\n",
        "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-WRONGTYPE wrong kind\r\n",
        "$4\r\na\r\nb\r\n",
    ].joined()

    static let expected: [RedisValue] = [
        .simpleString("OK"),
        .error("ERR unknown command 'FOO'"),
        .integer(42),
        .integer(-7),
        RedisValue(bulk: "hello"),
        RedisValue(bulk: ""),
        .null,
        .null,
        .array([]),
        .array([.integer(1), .array([RedisValue(bulk: "a"), .null]), .error("WRONGTYPE wrong kind")]),
        RedisValue(bulk: "a\r\nb"),
    ]

    private func channel(limits: RESPReaderLimits = RESPReaderLimits()) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(RESPDecoder(limits: limits)))
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [RedisValue] {
        var values: [RedisValue] = []
        while let value = try channel.readInbound(as: RedisValue.self) {
            values.append(value)
        }
        return values
    }

    @Test func decodesEveryKindOfReplyInOneRead() throws {
        let channel = channel()
        try channel.writeInbound(ByteBuffer(string: Self.stream))
        #expect(try drain(channel) == Self.expected)
        #expect(try channel.finish().isClean)
    }

    @Test func decodesTheSameWhenSplitAtEveryByteBoundary() throws {
        let bytes = Array(Self.stream.utf8)
        for split in 1..<bytes.count {
            let channel = channel()
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: bytes[split...]))
            #expect(try drain(channel) == Self.expected, "split at byte \(split)")
            _ = try channel.finish()
        }
    }

    @Test func decodesTheSameWhenFedOneByteAtATime() throws {
        let channel = channel()
        var values: [RedisValue] = []
        for byte in Self.stream.utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            values += try drain(channel)
        }
        #expect(values == Self.expected)
    }

    @Test func decodesDeeplyNestedArrays() throws {
        let channel = channel()
        try channel.writeInbound(ByteBuffer(string: String(repeating: "*1\r\n", count: 7) + ":9\r\n"))
        var expected = RedisValue.integer(9)
        for _ in 0..<7 {
            expected = .array([expected])
        }
        #expect(try drain(channel) == [expected])
    }

    @Test func nestingBeyondHiredisDepthIsAProtocolError() throws {
        let channel = channel()
        #expect {
            try channel.writeInbound(ByteBuffer(string: String(repeating: "*1\r\n", count: 9) + ":9\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func anUnknownTypeByteIsAProtocolError() throws {
        let channel = channel()
        #expect {
            try channel.writeInbound(ByteBuffer(string: "?what\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func aBadIntegerIsAProtocolError() throws {
        let channel = channel()
        #expect {
            try channel.writeInbound(ByteBuffer(string: ":12x\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func anArrayAnnouncingTooManyElementsIsRefusedBeforeAllocation() throws {
        let channel = channel(limits: RESPReaderLimits(maxReplyElements: 10))
        #expect {
            try channel.writeInbound(ByteBuffer(string: "*2147483647\r\n"))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func theElementBudgetCountsNestedArrays() throws {
        let channel = channel(limits: RESPReaderLimits(maxReplyElements: 10))
        // 2 + 6 + 6 elements: each array fits alone, the reply does not.
        #expect {
            try channel.writeInbound(ByteBuffer(string: "*2\r\n*6\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n*6\r\n"))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func theElementBudgetIsPerReply() throws {
        let channel = channel(limits: RESPReaderLimits(maxReplyElements: 10))
        let reply = "*8\r\n" + String(repeating: ":1\r\n", count: 8)
        try channel.writeInbound(ByteBuffer(string: String(repeating: reply, count: 5)))
        #expect(try drain(channel).count == 5)
    }

    @Test func aBulkStringLongerThanTheByteLimitIsRefused() throws {
        let channel = channel(limits: RESPReaderLimits(maxReplyBytes: 64))
        try channel.writeInbound(ByteBuffer(string: "$1000\r\n" + String(repeating: "x", count: 40)))
        #expect(try drain(channel).isEmpty)
        #expect {
            try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 40)))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func manySmallRepliesDoNotAddUpAgainstTheByteLimit() throws {
        let channel = channel(limits: RESPReaderLimits(maxReplyBytes: 16))
        for _ in 0..<10 {
            try channel.writeInbound(ByteBuffer(string: String(repeating: ":12345\r\n", count: 100) + ":1"))
            #expect(try drain(channel).count == 100)
            try channel.writeInbound(ByteBuffer(string: "\r\n"))
            #expect(try drain(channel) == [.integer(1)])
        }
    }

    @Test func binaryBulkStringsSurviveIntact() throws {
        let channel = channel()
        let payload = (0...255).map { UInt8($0) }
        var buffer = ByteBuffer(string: "$256\r\n")
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
        try channel.writeInbound(buffer)
        #expect(try drain(channel).first?.bytes == payload)
    }
}
