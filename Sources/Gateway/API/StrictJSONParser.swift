/// A JSON parser that accepts exactly RFC 8259's grammar and nothing more, for request bodies.
///
/// Foundation's `JSONDecoder` is lenient in ways an API should not be: depending on the platform it takes trailing
/// commas, comments, `NaN` and `Infinity`, and it keeps the last of two equal keys. Two parsers that disagree about
/// one body (a proxy and us, say) are a smuggling risk, so the Gateway refuses everything RFC 8259 does not allow:
/// leading zeros, a `+` sign, trailing commas, comments, non-finite numbers, duplicate keys (compared after
/// unescaping), invalid escapes, unpaired UTF-16 surrogates, unescaped control characters, bytes that are not UTF-8, a
/// byte order mark, and anything after the value. Nesting is limited to ``maxDepth`` so that a body of brackets
/// cannot exhaust the stack.
///
/// Pure and synchronous: it reads bytes and returns a ``JSONObjectBody/Value`` or throws ``Failure``.
struct StrictJSONParser {
    /// Why a body is not JSON, with the byte offset where the parser gave up (for tests and logs).
    struct Failure: Error, Hashable {
        var message: String
        var offset: Int
    }

    /// Arrays and objects nested deeper than this are refused.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses `bytes` as one JSON text.
    static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONObjectBody.Value {
        var parser = StrictJSONParser(Array(bytes))
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.failure("unexpected data after the value") }
        return value
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: message, offset: position)
    }

    private var current: UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard current == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONObjectBody.Value {
        guard let byte = current else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
            return .number
        default: throw failure("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - position >= expected.count,
            bytes[position..<position + expected.count].elementsEqual(expected)
        else { throw failure("invalid literal") }
        position += expected.count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONObjectBody.Value {
        guard depth <= Self.maxDepth else { throw failure("nested too deeply") }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        var fields: [String: JSONObjectBody.Value] = [:]
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let keyOffset = position
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let member = try value(depth: depth)
            guard fields.updateValue(member, forKey: key) == nil else {
                throw Failure(message: "duplicate key", offset: keyOffset)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(fields)
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONObjectBody.Value {
        guard depth <= Self.maxDepth else { throw failure("nested too deeply") }
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array
        }
        while true {
            skipWhitespace()
            _ = try value(depth: depth)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(Failure) {
        if current == UInt8(ascii: "-") {
            position += 1
        }
        switch current {
        case UInt8(ascii: "0"):
            position += 1
            if let next = current, Self.isDigit(next) { throw failure("leading zero") }
        case let byte? where Self.isDigit(byte):
            try digits()
        default:
            throw failure("expected a digit")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            try digits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
                position += 1
            }
            try digits()
        }
    }

    /// One or more ASCII digits.
    private mutating func digits() throws(Failure) {
        guard let first = current, Self.isDigit(first) else { throw failure("expected a digit") }
        while let byte = current, Self.isDigit(byte) {
            position += 1
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A string, from its opening quote; the unescaped text must be valid Unicode.
    private mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        var text: [UInt8] = []
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: text, as: UTF8.self) else {
                    throw failure("a string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                try escape(into: &text)
            case 0x00..<0x20:
                throw failure("unescaped control character in a string")
            default:
                text.append(byte)
                position += 1
            }
        }
    }

    /// The escape after a backslash, appended to `text` as UTF-8.
    private mutating func escape(into text: inout [UInt8]) throws(Failure) {
        guard let byte = current else { throw failure("unterminated escape") }
        position += 1
        let simple: UInt8? =
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
        if let simple {
            text.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw failure("invalid escape") }
        let unit = try hexUnit()
        let scalarValue: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
            else { throw failure("unpaired surrogate") }
            position += 2
            let low = try hexUnit()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
            scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw failure("unpaired surrogate")
        default:
            scalarValue = UInt32(unit)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("invalid escape") }
        UTF8.encode(scalar) { text.append($0) }
    }

    /// The four hex digits of a `\u` escape.
    private mutating func hexUnit() throws(Failure) -> UInt16 {
        guard bytes.count - position >= 4 else { throw failure("truncated \\u escape") }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = QueryParameters.hexValue(bytes[position]) else { throw failure("invalid \\u escape") }
            unit = unit << 4 | UInt16(digit)
            position += 1
        }
        return unit
    }
}
