import NIOCore

/// A Redis reply, as RESP2 has it: the tests' own small copy, since they talk to Redis beside the TimelineService
/// (whose client they must not depend on) to look at keys directly and to inject faults into its masters.
enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; `nil` is the null bulk string.
    case bulk([UInt8]?)
    /// An array; `nil` is the null array.
    case array([RESPValue]?)

    var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): true
        default: false
        }
    }

    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    var array: [RESPValue]? {
        if case .array(let values?) = self { return values }
        return nil
    }

    /// A command as RESP: an array of bulk strings, each argument as its bytes.
    static func command(_ arguments: [[UInt8]]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
        return buffer
    }

    /// Reads one whole reply off the front of `buffer`; `nil` (and `buffer` untouched) when it is not all there yet.
    /// - Throws: ``FaultFailure`` for bytes that are not RESP.
    static func read(from buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try readValue(&copy) else { return nil }
        buffer = copy
        return value
    }

    private static func readValue(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        guard let type = buffer.readInteger(as: UInt8.self), let line = readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let value = Int64(line) else { throw FaultFailure("RESP integer \(line)") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(line) else { throw FaultFailure("RESP bulk length \(line)") }
            if length < 0 { return .bulk(nil) }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readBytes(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(line) else { throw FaultFailure("RESP array length \(line)") }
            if count < 0 { return .array(nil) }
            var values: [RESPValue] = []
            for _ in 0..<count {
                guard let value = try readValue(&buffer) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw FaultFailure("RESP type byte \(type)")
        }
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\r")),
            end + 1 < buffer.writerIndex
        else { return nil }
        let line = buffer.readString(length: end - buffer.readerIndex)
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
