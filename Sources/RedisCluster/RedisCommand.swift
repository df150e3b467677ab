import NIOCore
import Wire

/// A value that can be one argument of a ``RedisCommand``: its bytes as Redis should see them.
public protocol RedisArgumentConvertible: Sendable {
    /// The argument's bytes.
    var redisArgument: [UInt8] { get }
}

extension String: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
}

extension Array: RedisArgumentConvertible where Element == UInt8 {
    public var redisArgument: [UInt8] { self }
}

extension ByteBuffer: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(readableBytesView) }
}

extension Int: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgumentConvertible {
    /// The shortest decimal that reads back as the same `Double`; infinities as Redis spells them (`+inf`, `-inf`).
    public var redisArgument: [UInt8] {
        if isInfinite { return Array((self < 0 ? "-inf" : "+inf").utf8) }
        return Array(description.utf8)
    }
}

/// One Redis command: its words as binary-safe byte strings, and which of them are keys.
///
/// The keys decide where a cluster client sends the command: all keys of one command must hash to the same
/// ``HashSlot`` (use hash tags for multi-key commands), and a command with no key goes to any node.
public struct RedisCommand: Sendable, Hashable {
    /// The command name followed by its arguments.
    public var arguments: [[UInt8]]
    /// Indices into ``arguments`` of the keys.
    public var keyPositions: [Int]
    /// The script an `EVALSHA` command calls, whose body goes instead where the connection has not run it
    /// (``RedisScript``); `nil` for any other command.
    public internal(set) var script: RedisScript?

    /// A command from raw words.
    /// - Parameters:
    ///   - arguments: the command name and its arguments; must not be empty.
    ///   - keyPositions: the indices of the keys among `arguments`.
    public init(arguments: [[UInt8]], keyPositions: [Int] = []) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        precondition(keyPositions.allSatisfy { arguments.indices.contains($0) }, "a key position is out of range")
        self.arguments = arguments
        self.keyPositions = keyPositions
    }

    /// A command without keys, e.g. `RedisCommand("PING")` or `RedisCommand("CLUSTER", "SLOTS")`.
    public init(_ name: String, _ arguments: any RedisArgumentConvertible...) {
        self.init(arguments: [name.redisArgument] + arguments.map(\.redisArgument))
    }

    /// A command whose first argument is its only key, e.g. `RedisCommand("SET", key: "k", "v")`.
    public init(_ name: String, key: any RedisArgumentConvertible, _ arguments: any RedisArgumentConvertible...) {
        self.init(
            arguments: [name.redisArgument, key.redisArgument] + arguments.map(\.redisArgument),
            keyPositions: [1]
        )
    }

    /// A command whose first arguments are its keys, e.g. `RedisCommand("DEL", keys: ["{u1}a", "{u1}b"])`.
    public init(
        _ name: String, keys: [any RedisArgumentConvertible], _ arguments: any RedisArgumentConvertible...
    ) {
        self.init(
            arguments: [name.redisArgument] + keys.map(\.redisArgument) + arguments.map(\.redisArgument),
            keyPositions: Array(1..<(1 + keys.count))
        )
    }

    /// The command name in upper case, for logs.
    public var name: String {
        String(decoding: arguments[0], as: UTF8.self).uppercased()
    }

    /// The keys, in argument order.
    public var keys: [[UInt8]] {
        keyPositions.map { arguments[$0] }
    }

    /// The slot that serves this command's keys; `nil` for a command without keys.
    /// - Throws: ``RedisError/Code/crossSlot`` when the keys hash to different slots.
    public func slot() throws(RedisError) -> HashSlot? {
        guard let first = keyPositions.first else { return nil }
        let slot = HashSlot(key: arguments[first])
        for position in keyPositions.dropFirst() where HashSlot(key: arguments[position]) != slot {
            throw RedisError(.crossSlot, "the keys of one \(name) command hash to different slots")
        }
        return slot
    }

    /// Appends the command in RESP: an array of bulk strings, `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` for each
    /// word, written straight into `buffer` (one reservation, no intermediate copy).
    /// - Throws: ``RedisError/Code/protocolError`` for a command of 1 GiB or more (Redis takes at most 512 MiB a word).
    func encode(into buffer: inout ByteBuffer) throws(RedisError) {
        var total = 0
        for argument in arguments {
            total += argument.count
        }
        guard total < 1 << 30 else {
            throw .protocolError("a \(name) command of 1 GiB or more cannot be sent")
        }
        buffer.reserveCapacity(minimumWritableBytes: total + 16 + arguments.count * 16)
        Self.writeHeader(UInt8(ascii: "*"), arguments.count, into: &buffer)
        for argument in arguments {
            Self.writeHeader(UInt8(ascii: "$"), argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// `<marker><decimal>\r\n`.
    private static func writeHeader(_ marker: UInt8, _ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(marker)
        buffer.writeDecimal(Int64(count))
        buffer.writeStaticString("\r\n")
    }
}
