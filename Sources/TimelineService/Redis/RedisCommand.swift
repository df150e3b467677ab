import CHiredis
import NIOCore

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
/// ``HashSlot`` (use hash tags for multi-key commands), and a command with no key goes to any node. The wire form is
/// made by hiredis's `redisFormatCommandArgv`.
public struct RedisCommand: Sendable, Hashable {
    /// The command name followed by its arguments.
    public var arguments: [[UInt8]]
    /// Indices into ``arguments`` of the keys.
    public var keyPositions: [Int]

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

    /// Appends the command in RESP (an array of bulk strings), as formatted by hiredis.
    /// - Throws: ``RedisError/Code/protocolError`` for a command of 1 GiB or more, which hiredis cannot format.
    func encode(into buffer: inout ByteBuffer) throws(RedisError) {
        let lengths = arguments.map(\.count)
        let total = lengths.reduce(0, +)
        guard total < 1 << 30 else {
            throw .protocolError("a \(name) command of 1 GiB or more cannot be sent")
        }
        // One contiguous copy gives every argument a stable address for the C call; the extra byte keeps the base
        // address non-nil when all arguments are empty.
        var flat: [UInt8] = []
        flat.reserveCapacity(total + 1)
        for argument in arguments {
            flat += argument
        }
        flat.append(0)
        let written: Int32 = flat.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(lengths.count)
            for length in lengths {
                pointers.append(base + offset)
                offset += length
            }
            var target: UnsafeMutablePointer<CChar>?
            let count = redisFormatCommandArgv(&target, Int32(lengths.count), &pointers, lengths)
            guard count >= 0, let target else { return -1 }
            defer { redisFreeCommand(target) }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(count)))
            return count
        }
        guard written >= 0 else { throw .protocolError("hiredis could not format a \(name) command") }
    }
}
