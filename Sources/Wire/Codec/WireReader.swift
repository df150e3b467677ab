import NIOCore

/// Reads message fields written by ``WireWriter``. Every read is bounds-checked against the bytes that remain, so
/// malformed input ends in a ``WireError`` (code `invalid_argument`) and never in a crash or a large allocation.
public struct WireReader: Sendable {
    public private(set) var buffer: ByteBuffer

    public init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    public var remainingBytes: Int { buffer.readableBytes }

    public mutating func read<Integer: FixedWidthInteger>(_: Integer.Type = Integer.self) throws(WireError) -> Integer {
        guard let value = buffer.readInteger(as: Integer.self) else {
            throw WireError.truncated("\(Integer.self)")
        }
        return value
    }

    public mutating func read(_: Bool.Type = Bool.self) throws(WireError) -> Bool {
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.invalidArgument, reason: "invalid_bool", "boolean byte \(other) is not 0 or 1")
        }
    }

    /// Reads a `u32`-prefixed UTF-8 string.
    /// - Parameter maxBytes: refuse a longer string (reason `too_long`) before decoding it.
    public mutating func read(_: String.Type = String.self, maxBytes: Int = .max) throws(WireError) -> String {
        let bytes = try readLengthPrefixed("string")
        guard bytes.readableBytes <= maxBytes else {
            throw WireError(
                .invalidArgument, reason: "too_long", "string of \(bytes.readableBytes) bytes exceeds \(maxBytes)")
        }
        guard let string = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw WireError(.invalidArgument, reason: "invalid_utf8", "string is not valid UTF-8")
        }
        return string
    }

    /// Reads `u32`-prefixed opaque bytes (a view into the payload, not a copy).
    public mutating func readBytes() throws(WireError) -> ByteBuffer {
        try readLengthPrefixed("bytes")
    }

    /// Reads a `u32`-prefixed nested message. Bytes the message does not read are skipped: they are fields added by
    /// a newer peer.
    public mutating func read<Message: WireMessage>(_: Message.Type = Message.self) throws(WireError) -> Message {
        var nested = WireReader(buffer: try readLengthPrefixed("\(Message.self)"))
        return try Message(from: &nested)
    }

    /// Reads a presence byte, then the value when present.
    public mutating func readOptional<Value>(
        _ readValue: (inout WireReader) throws(WireError) -> Value
    ) throws(WireError) -> Value? {
        try read(Bool.self) ? try readValue(&self) : nil
    }

    /// Reads a `u32` count, then each element. The count is checked against the remaining bytes (every element takes
    /// at least `minimumElementSize`) before any storage is reserved.
    public mutating func readArray<Element>(
        minimumElementSize: Int = 1,
        _ readElement: (inout WireReader) throws(WireError) -> Element
    ) throws(WireError) -> [Element] {
        let count = Int(try read(UInt32.self))
        guard count <= buffer.readableBytes / max(minimumElementSize, 1) else {
            throw WireError.truncated("an array of \(count) elements")
        }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try readElement(&self))
        }
        return elements
    }

    public mutating func read(_: [UInt64].Type = [UInt64].self) throws(WireError) -> [UInt64] {
        try readArray(minimumElementSize: 8) { (reader: inout WireReader) throws(WireError) in
            try reader.read(UInt64.self)
        }
    }

    public mutating func read<Message: WireMessage>(_: [Message].Type = [Message].self) throws(WireError) -> [Message] {
        try readArray(minimumElementSize: 4) { (reader: inout WireReader) throws(WireError) in
            try reader.read(Message.self)
        }
    }

    private mutating func readLengthPrefixed(_ what: String) throws(WireError) -> ByteBuffer {
        let length = Int(try read(UInt32.self))
        guard let bytes = buffer.readSlice(length: length) else {
            throw WireError.truncated(what)
        }
        return bytes
    }
}
