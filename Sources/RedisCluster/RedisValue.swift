import NIOCore

/// One reply from a Redis server, as RESP2 defines it.
///
/// Error replies are values too: inside a ``RedisClient/pipeline(_:)`` result, a command that failed on the server
/// (`WRONGTYPE`, `OOM`, ...) shows up as ``error(_:)`` in its place while the others keep their results.
public enum RedisValue: Sendable, Hashable {
    /// A status reply such as `OK` or `PONG` (`+...`).
    case simpleString(String)
    /// An error reply (`-...`): the whole text, prefix included, e.g. `WRONGTYPE Operation against a key ...`.
    case error(String)
    /// An integer reply (`:...`).
    case integer(Int64)
    /// A bulk string (`$...`): binary-safe bytes.
    case bulkString(ByteBuffer)
    /// The null bulk string or null array (`$-1`, `*-1`): a missing key, a timed-out pop.
    case null
    /// A multi-bulk reply (`*...`); elements can themselves be arrays.
    case array([RedisValue])
}

extension RedisValue {
    /// A bulk string holding the UTF-8 bytes of `text`.
    public init(bulk text: String) {
        self = .bulkString(ByteBuffer(string: text))
    }

    /// A bulk string holding `bytes`.
    public init(bulk bytes: [UInt8]) {
        self = .bulkString(ByteBuffer(bytes: bytes))
    }

    /// `true` for ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text of an error reply; `nil` for every other kind.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// A simple string, or a bulk string decoded as UTF-8 (invalid sequences are repaired).
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        default: nil
        }
    }

    /// The bytes of a bulk string or a simple string.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let text): Array(text.utf8)
        case .bulkString(let buffer): Array(buffer.readableBytesView)
        default: nil
        }
    }

    /// An integer reply, or a bulk or simple string holding a decimal integer (as `GET` returns after `INCR`).
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// A floating-point number sent as a string, as `ZSCORE` and `INCRBYFLOAT` return it; integers convert too.
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .bulkString, .simpleString: string.flatMap { Double($0) }
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}

extension RedisValue: CustomStringConvertible {
    /// A short, redis-cli-like rendering for logs and test failures; long bulk strings are cut.
    public var description: String {
        switch self {
        case .simpleString(let text): return text
        case .error(let message): return "(error) \(message)"
        case .integer(let value): return "(integer) \(value)"
        case .null: return "(nil)"
        case .bulkString(let buffer):
            let shown = buffer.getSlice(at: buffer.readerIndex, length: min(buffer.readableBytes, 64)) ?? buffer
            let suffix = buffer.readableBytes > 64 ? "... (\(buffer.readableBytes) bytes)" : ""
            return "\"\(String(buffer: shown))\(suffix)\""
        case .array(let elements):
            return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
