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

/// Writes compact JSON, keys in the order they are written.
///
/// The API's answers are small fixed shapes, so a writer that is told the shape beats a general encoder: the output
/// is deterministic (fields in the order the API documents them), and a timeline page of 200 tweets costs no
/// intermediate dictionaries. It appends to a byte array and makes one `ByteBuffer` at the end: a page is thousands
/// of small writes, and each write into a `ByteBuffer` checks its storage's exclusive access (a profile of home reads
/// had those checks and `ByteBuffer`'s own write path at about half of the page's cost).
struct JSONWriter {
    private var bytes: [UInt8] = []
    /// For each open object or array: whether nothing has been written into it yet.
    private var isFirst: [Bool] = [true]
    /// A key was just written: the next value follows it without a comma.
    private var afterKey = false

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// What was written.
    var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

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
        bytes.append(UInt8(ascii: "\""))
        append(name)
        append("\":")
        afterKey = true
    }

    mutating func string(_ value: String) {
        separate()
        writeQuoted(value)
    }

    mutating func int(_ value: Int64) {
        separate()
        appendDecimal(value)
    }

    /// An integer as a JSON string (the API's ids: JavaScript numbers cannot hold every `Int64`).
    mutating func decimalString(_ value: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendDecimal(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A time as the API writes it: an RFC 3339 string (``RFC3339``).
    mutating func timestamp(unixMillis: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        RFC3339.withFormatted(unixMillis) { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// An id as a JSON string, or `null` for `nil`.
    mutating func optionalDecimalString(_ value: Int64?) {
        if let value { decimalString(value) } else { null() }
    }

    mutating func bool(_ value: Bool) {
        separate()
        append(value ? "true" : "false")
    }

    mutating func null() {
        separate()
        append("null")
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
        bytes.append(bracket)
        isFirst.append(true)
    }

    private mutating func close(_ bracket: UInt8) {
        isFirst.removeLast()
        bytes.append(bracket)
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else if isFirst[isFirst.count - 1] {
            isFirst[isFirst.count - 1] = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    /// RFC 8259 escaping: `"`, `\` and control characters; everything else is written as its UTF-8.
    private mutating func writeQuoted(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.reserveCapacity(bytes.count + utf8.count + 2)
            bytes.append(UInt8(ascii: "\""))
            var start = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case UInt8(ascii: "\n"): append("\\n")
                case UInt8(ascii: "\r"): append("\\r")
                case UInt8(ascii: "\t"): append("\\t")
                default:
                    let hex: StaticString = "0123456789abcdef"
                    append("\\u00")
                    bytes.append(hex.utf8Start[Int(byte >> 4)])
                    bytes.append(hex.utf8Start[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func appendDecimal(_ value: Int64) {
        DecimalDigits.withFormatted(value) { bytes.append(contentsOf: $0) }
    }
}
