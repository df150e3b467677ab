import NIOCore

/// Payload of an `error` frame.
public struct WireErrorPayload: WireMessage, Hashable {
    public var error: WireError

    public init(_ error: WireError) {
        self.error = error
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let code = WireError.Code(rawValue: try reader.read())
        let reason = try reader.read(String.self, maxBytes: 256)
        let message = try reader.read(String.self, maxBytes: 4096)
        error = WireError(code, reason: reason, message)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(error.code.rawValue)
        writer.write(error.reason)
        writer.write(error.message)
    }
}

/// Payload of a `goAway` frame.
public struct WireGoAway: WireMessage, Hashable {
    /// The highest request id the sender will still answer.
    public var lastRequestID: UInt64
    public var reason: String

    public init(lastRequestID: UInt64, reason: String) {
        self.lastRequestID = lastRequestID
        self.reason = reason
    }

    public init(from reader: inout WireReader) throws(WireError) {
        lastRequestID = try reader.read()
        reason = try reader.read(String.self, maxBytes: 1024)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(lastRequestID)
        writer.write(reason)
    }
}
