import NIOCore
import Testing

@testable import RedisCluster

@Suite struct RedisCommandTests {
    private func encoded(_ commands: RedisCommand...) throws -> String {
        var buffer = ByteBuffer()
        for command in commands {
            try command.encode(into: &buffer)
        }
        return String(buffer: buffer)
    }

    @Test func encodesAsAnArrayOfBulkStrings() throws {
        #expect(try encoded(RedisCommand("PING")) == "*1\r\n$4\r\nPING\r\n")
        #expect(
            try encoded(RedisCommand("SET", key: "k", "hello world"))
                == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\nhello world\r\n"
        )
    }

    @Test func encodesBinaryAndEmptyArguments() throws {
        let command = RedisCommand(arguments: [Array("SET".utf8), [0x00, 0x0D, 0x0A], []], keyPositions: [1])
        var buffer = ByteBuffer()
        try command.encode(into: &buffer)
        #expect(
            Array(buffer.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$3\r\n".utf8) + [0, 13, 10]
                + Array("\r\n$0\r\n\r\n".utf8))
    }

    @Test func encodesLengthsAndCountsOfSeveralDigits() throws {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 12_345)
        let words = [Array("RPUSH".utf8), Array("k".utf8)] + (0..<10).map { Array(String($0).utf8) } + [long]
        var buffer = ByteBuffer()
        try RedisCommand(arguments: words, keyPositions: [1]).encode(into: &buffer)
        let expected =
            "*13\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n" + (0..<10).map { "$1\r\n\($0)\r\n" }.joined()
            + "$12345\r\n" + String(repeating: "x", count: 12_345) + "\r\n"
        #expect(String(buffer: buffer) == expected)
    }

    @Test func encodesSeveralCommandsBackToBack() throws {
        #expect(
            try encoded(RedisCommand("GET", key: "a"), RedisCommand("GET", key: "b"))
                == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")
    }

    @Test func convertsNumbersAndBuffers() throws {
        let command = RedisCommand("ZADD", key: "z", 1.5, ByteBuffer(string: "m"), 42, Double.infinity)
        #expect(
            command.arguments.map { String(decoding: $0, as: UTF8.self) } == ["ZADD", "z", "1.5", "m", "42", "+inf"])
    }

    @Test func knowsItsKeysAndSlot() throws {
        let single = RedisCommand("GET", key: "foo")
        #expect(single.keys == [Array("foo".utf8)])
        #expect(try single.slot() == HashSlot(key: "foo"))

        let tagged = RedisCommand("DEL", keys: ["{u1}.a", "{u1}.b"])
        #expect(tagged.keyPositions == [1, 2])
        #expect(try tagged.slot() == HashSlot(key: "u1"))

        #expect(try RedisCommand("DBSIZE").slot() == nil)
        #expect(RedisCommand("get", key: "x").name == "GET")
    }

    @Test func keysInDifferentSlotsAreACrossSlotError() {
        #expect {
            try RedisCommand("MGET", keys: ["foo", "bar"]).slot()
        } throws: { ($0 as? RedisError)?.code == .crossSlot }
    }
}
