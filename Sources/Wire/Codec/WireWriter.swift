import NIOCore

/// Appends message fields to a payload: fixed-width big-endian integers, `u32`-length-prefixed strings, bytes,
/// arrays and nested messages, and a presence byte before optionals. See `docs/wire.md` for the layout.
public struct WireWriter: Sendable {
    public private(set) var buffer: ByteBuffer

    public init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    public mutating func write<Integer: FixedWidthInteger>(_ value: Integer) {
        buffer.writeInteger(value)
    }

    public mutating func write(_ value: Bool) {
        buffer.writeInteger(value ? 1 as UInt8 : 0)
    }

    public mutating func write(_ value: String) {
        buffer.writeInteger(UInt32(value.utf8.count))
        buffer.writeString(value)
    }

    /// Writes opaque bytes with a `u32` length prefix.
    public mutating func write(bytes: ByteBuffer) {
        buffer.writeInteger(UInt32(bytes.readableBytes))
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// Writes a nested message with a `u32` length prefix, so that a reader can skip fields it does not know.
    public mutating func write(_ message: some WireMessage) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        let start = buffer.writerIndex
        message.encode(to: &self)
        buffer.setInteger(UInt32(buffer.writerIndex - start), at: lengthIndex)
    }

    /// Writes a presence byte (0 or 1), then the value when present.
    public mutating func write<Value>(_ value: Value?, _ writeValue: (inout WireWriter, Value) -> Void) {
        guard let value else {
            write(false)
            return
        }
        write(true)
        writeValue(&self, value)
    }

    /// Writes a `u32` count, then each element.
    public mutating func write<Element>(_ elements: [Element], _ writeElement: (inout WireWriter, Element) -> Void) {
        buffer.writeInteger(UInt32(elements.count))
        for element in elements {
            writeElement(&self, element)
        }
    }

    public mutating func write(_ values: [UInt64]) {
        buffer.writeInteger(UInt32(values.count))
        buffer.reserveCapacity(minimumWritableBytes: values.count * 8)
        for value in values {
            buffer.writeInteger(value)
        }
    }

    public mutating func write(_ messages: [some WireMessage]) {
        write(messages) { writer, message in writer.write(message) }
    }
}
