import NIOCore
import Wire

/// A value that writes itself as JSON.
protocol JSONRepresentable {
    func write(to json: inout JSONWriter)
    /// About how many bytes ``write(to:)`` writes, so that the buffer is allocated once (a timeline page is kilobytes).
    var estimatedByteCount: Int { get }
}

extension JSONRepresentable {
    var estimatedByteCount: Int { 256 }
}

/// Writes compact JSON straight into a `ByteBuffer`, keys in the order they are written.
///
/// The API's answers are small fixed shapes, so a writer that is told the shape beats a general encoder: the output
/// is deterministic (fields in the order the API documents them), and a timeline page of 200 tweets costs no
/// intermediate dictionaries.
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    /// For each open object or array: whether nothing has been written into it yet.
    private var isFirst: [Bool] = [true]
    /// A key was just written: the next value follows it without a comma.
    private var afterKey = false

    init(capacity: Int = 256) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    mutating func array<Elements: Sequence>(_ elements: Elements, _ body: (inout JSONWriter, Elements.Element) -> Void)
    {
        open(UInt8(ascii: "["))
        for element in elements {
            body(&self, element)
        }
        close(UInt8(ascii: "]"))
    }

    /// An object member's name; the next call writes its value.
    mutating func key(_ name: StaticString) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
        afterKey = true
    }

    mutating func string(_ value: String) {
        separate()
        writeQuoted(value)
    }

    mutating func int(_ value: Int64) {
        separate()
        buffer.writeDecimal(value)
    }

    /// An integer as a JSON string (the API's ids: JavaScript numbers cannot hold every `Int64`).
    mutating func decimalString(_ value: Int64) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeDecimal(value)
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// A time as the API writes it: an RFC 3339 string (``RFC3339``).
    mutating func timestamp(unixMillis: Int64) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        RFC3339.withFormatted(unixMillis) { _ = buffer.writeBytes($0) }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// An id as a JSON string, or `null` for `nil`.
    mutating func optionalDecimalString(_ value: Int64?) {
        if let value { decimalString(value) } else { null() }
    }

    mutating func bool(_ value: Bool) {
        separate()
        buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func null() {
        separate()
        buffer.writeStaticString("null")
    }

    /// A string, or `null` for `nil`.
    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func value(_ value: some JSONRepresentable) {
        value.write(to: &self)
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        buffer.writeInteger(bracket)
        isFirst.append(true)
    }

    private mutating func close(_ bracket: UInt8) {
        isFirst.removeLast()
        buffer.writeInteger(bracket)
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else if isFirst[isFirst.count - 1] {
            isFirst[isFirst.count - 1] = false
        } else {
            buffer.writeInteger(UInt8(ascii: ","))
        }
    }

    /// RFC 8259 escaping: `"`, `\` and control characters; everything else is written as its UTF-8.
    private mutating func writeQuoted(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            buffer.reserveCapacity(minimumWritableBytes: utf8.count + 2)
            buffer.writeInteger(UInt8(ascii: "\""))
            var start = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                default:
                    let hex: StaticString = "0123456789abcdef"
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                    buffer.writeInteger(hex.utf8Start[Int(byte & 0xF)])
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start...]))
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }
}
