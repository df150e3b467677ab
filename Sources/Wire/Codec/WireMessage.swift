import NIOCore

/// A value that travels as a Wire payload.
///
/// Fields are written in a fixed order; a newer version may append fields at the end, which older readers skip.
public protocol WireMessage: Sendable {
    init(from reader: inout WireReader) throws(WireError)
    func encode(to writer: inout WireWriter)
}

extension WireMessage {
    /// Decodes a whole payload.
    public init(payload: ByteBuffer) throws(WireError) {
        var reader = WireReader(buffer: payload)
        try self.init(from: &reader)
    }

    /// Encodes into a fresh payload.
    public func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = WireWriter(buffer: allocator.buffer(capacity: 64))
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
