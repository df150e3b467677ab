import NIOCore
import Testing

@testable import RedisCluster

/// Feeds a reader as the connection's handler does: each read whole, then every reply it completes.
private final class Reads {
    private let reader: RESPReader
    private var replies: [RedisValue] = []

    init(limits: RESPReaderLimits = RESPReaderLimits()) {
        reader = RESPReader(limits: limits)
    }

    func writeInbound(_ bytes: ByteBuffer) throws {
        try reader.feed(bytes)
        while let reply = try reader.next() {
            replies.append(reply)
        }
    }

    /// The replies completed since the last call.
    func drain() -> [RedisValue] {
        defer { replies = [] }
        return replies
    }
}

@Suite struct RESPReaderTests {
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

    @Test func decodesEveryKindOfReplyInOneRead() throws {
        let reads = Reads()
        try reads.writeInbound(ByteBuffer(string: Self.stream))
        #expect(reads.drain() == Self.expected)
    }

    @Test func decodesTheSameWhenSplitAtEveryByteBoundary() throws {
        let bytes = Array(Self.stream.utf8)
        for split in 1..<bytes.count {
            let reads = Reads()
            try reads.writeInbound(ByteBuffer(bytes: bytes[..<split]))
            try reads.writeInbound(ByteBuffer(bytes: bytes[split...]))
            #expect(reads.drain() == Self.expected, "split at byte \(split)")
        }
    }

    @Test func decodesTheSameWhenFedOneByteAtATime() throws {
        let reads = Reads()
        var values: [RedisValue] = []
        for byte in Self.stream.utf8 {
            try reads.writeInbound(ByteBuffer(bytes: [byte]))
            values += reads.drain()
        }
        #expect(values == Self.expected)
    }

    @Test func decodesDeeplyNestedArrays() throws {
        let reads = Reads()
        try reads.writeInbound(ByteBuffer(string: String(repeating: "*1\r\n", count: 7) + ":9\r\n"))
        var expected = RedisValue.integer(9)
        for _ in 0..<7 {
            expected = .array([expected])
        }
        #expect(reads.drain() == [expected])
    }

    @Test func nestingBeyondHiredisDepthIsAProtocolError() throws {
        let reads = Reads()
        #expect {
            try reads.writeInbound(ByteBuffer(string: String(repeating: "*1\r\n", count: 9) + ":9\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func anUnknownTypeByteIsAProtocolError() throws {
        let reads = Reads()
        #expect {
            try reads.writeInbound(ByteBuffer(string: "?what\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func aBadIntegerIsAProtocolError() throws {
        let reads = Reads()
        #expect {
            try reads.writeInbound(ByteBuffer(string: ":12x\r\n"))
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }

    @Test func anArrayAnnouncingTooManyElementsIsRefusedBeforeAllocation() throws {
        let reads = Reads(limits: RESPReaderLimits(maxReplyElements: 10))
        #expect {
            try reads.writeInbound(ByteBuffer(string: "*2147483647\r\n"))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func theElementBudgetCountsNestedArrays() throws {
        let reads = Reads(limits: RESPReaderLimits(maxReplyElements: 10))
        // 2 + 6 + 6 elements: each array fits alone, the reply does not.
        #expect {
            try reads.writeInbound(ByteBuffer(string: "*2\r\n*6\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n*6\r\n"))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func theElementBudgetIsPerReply() throws {
        let reads = Reads(limits: RESPReaderLimits(maxReplyElements: 10))
        let reply = "*8\r\n" + String(repeating: ":1\r\n", count: 8)
        try reads.writeInbound(ByteBuffer(string: String(repeating: reply, count: 5)))
        #expect(reads.drain().count == 5)
    }

    @Test func aBulkStringLongerThanTheByteLimitIsRefused() throws {
        let reads = Reads(limits: RESPReaderLimits(maxReplyBytes: 64))
        try reads.writeInbound(ByteBuffer(string: "$1000\r\n" + String(repeating: "x", count: 40)))
        #expect(reads.drain().isEmpty)
        #expect {
            try reads.writeInbound(ByteBuffer(string: String(repeating: "x", count: 40)))
        } throws: { ($0 as? RedisError)?.code == .replyTooLarge }
    }

    @Test func manySmallRepliesDoNotAddUpAgainstTheByteLimit() throws {
        let reads = Reads(limits: RESPReaderLimits(maxReplyBytes: 16))
        for _ in 0..<10 {
            try reads.writeInbound(ByteBuffer(string: String(repeating: ":12345\r\n", count: 100) + ":1"))
            #expect(reads.drain().count == 100)
            try reads.writeInbound(ByteBuffer(string: "\r\n"))
            #expect(reads.drain() == [.integer(1)])
        }
    }

    @Test func binaryBulkStringsSurviveIntact() throws {
        let reads = Reads()
        let payload = (0...255).map { UInt8($0) }
        var buffer = ByteBuffer(string: "$256\r\n")
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
        try reads.writeInbound(buffer)
        #expect(reads.drain().first?.bytes == payload)
    }
}
