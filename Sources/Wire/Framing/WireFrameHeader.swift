import NIOCore

/// The fixed part of every frame, after its length prefix. All integers are big-endian.
///
/// ```
/// offset size field
///      0    4 length         bytes that follow this field (header + payload)
///      4    1 version        2
///      5    1 kind           WireFrameKind
///      6    2 flags          reserved, 0
///      8    8 request id     correlates a response with its request
///     16    2 method         WireMethodID (requests; echoed in responses)
///     18    4 timeout ms     the caller's remaining budget; 0 = the server's default
///     22   16 trace id       WireTraceID, high then low
///     38    … payload
/// ```
public struct WireFrameHeader: Sendable, Hashable {
    /// Bytes of header after the length prefix.
    public static let encodedSize = 34
    /// Bytes of the length prefix.
    public static let lengthPrefixSize = 4
    /// The protocol version this build speaks.
    /// Version 2 added the authenticated handshake (`challenge`, `authenticate`); version 1 had none.
    public static let currentVersion: UInt8 = 2

    public var version: UInt8
    public var kind: WireFrameKind
    public var flags: UInt16
    public var requestID: UInt64
    public var method: WireMethodID
    public var timeoutMillis: UInt32
    public var traceID: WireTraceID

    public init(
        kind: WireFrameKind,
        requestID: UInt64 = 0,
        method: WireMethodID = .none,
        timeoutMillis: UInt32 = 0,
        traceID: WireTraceID = WireTraceID(high: 0, low: 0),
        version: UInt8 = WireFrameHeader.currentVersion,
        flags: UInt16 = 0
    ) {
        self.version = version
        self.kind = kind
        self.flags = flags
        self.requestID = requestID
        self.method = method
        self.timeoutMillis = timeoutMillis
        self.traceID = traceID
    }
}

extension ByteBuffer {
    /// Writes the header fields (without the length prefix).
    @inlinable
    mutating func writeWireFrameHeader(_ header: WireFrameHeader) {
        writeMultipleIntegers(
            header.version, header.kind.rawValue, header.flags, header.requestID, header.method.rawValue,
            header.timeoutMillis, header.traceID.high, header.traceID.low
        )
    }

    /// Reads the header fields (without the length prefix); the caller has checked that enough bytes are there.
    mutating func readWireFrameHeader() throws(WireError) -> WireFrameHeader {
        guard
            let (version, kindByte, flags, requestID, method, timeout, traceHigh, traceLow) = readMultipleIntegers(
                as: (UInt8, UInt8, UInt16, UInt64, UInt16, UInt32, UInt64, UInt64).self
            )
        else { throw WireError.truncated("frame header") }
        guard version == WireFrameHeader.currentVersion else {
            throw WireError.protocolViolation("unsupported_version", "frame version \(version) is not supported")
        }
        guard let kind = WireFrameKind(rawValue: kindByte) else {
            throw WireError.protocolViolation("unknown_frame_kind", "unknown frame kind \(kindByte)")
        }
        return WireFrameHeader(
            kind: kind, requestID: requestID, method: WireMethodID(rawValue: method), timeoutMillis: timeout,
            traceID: WireTraceID(high: traceHigh, low: traceLow), version: version, flags: flags
        )
    }
}
