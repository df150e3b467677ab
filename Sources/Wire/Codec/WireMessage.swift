import NIOCore

/// A value that travels as a Wire payload.
///
/// Fields are written in a fixed order; a newer version may append fields at the end, which older readers skip.
public protocol WireMessage: Sendable {
    init(from reader: inout WireReader) throws(WireError)
    func encode(to writer: inout WireWriter)
    /// About how many bytes ``encode(to:)`` writes, so that a payload is allocated once; 64 unless a message knows
    /// better (a page of tweets is kilobytes, and growing a buffer to it copies it again and again).
    var estimatedPayloadByteCount: Int { get }
}

extension WireMessage {
    /// Decodes a whole payload.
    public init(payload: ByteBuffer) throws(WireError) {
        var reader = WireReader(buffer: payload)
        try self.init(from: &reader)
    }

    public var estimatedPayloadByteCount: Int { 64 }

    /// Encodes into a fresh payload.
    public func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = WireWriter(buffer: allocator.buffer(capacity: estimatedPayloadByteCount))
        encode(to: &writer)
        return writer.buffer
    }
}

/// A message with no fields.
public struct WireEmpty: WireMessage, Hashable {
    public init() {}
    public init(from reader: inout WireReader) throws(WireError) {}
    public func encode(to writer: inout WireWriter) {}
}
