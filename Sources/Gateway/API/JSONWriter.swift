import NIOCore

/// A value that writes itself as JSON.
protocol JSONRepresentable {
    func write(to json: inout JSONWriter)
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
        buffer.writeString(String(value))
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
        buffer.writeInteger(UInt8(ascii: "\""))
        var utf8 = value.utf8[...]
        while let special = utf8.firstIndex(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        ) {
            buffer.writeBytes(utf8[..<special])
            let byte = utf8[special]
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            default:
                let hex = Array("0123456789abcdef".utf8)
                buffer.writeStaticString("\\u00")
                buffer.writeBytes([hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
            utf8 = utf8[utf8.index(after: special)...]
        }
        buffer.writeBytes(utf8)
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
