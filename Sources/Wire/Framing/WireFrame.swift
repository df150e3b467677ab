import NIOCore

/// One unit on a Wire connection: a header and an opaque payload.
public struct WireFrame: Sendable, Hashable {
    /// The largest frame a peer accepts unless configured otherwise: length prefix excluded, header included.
    public static let defaultMaxLength = 1 << 20

    public var header: WireFrameHeader
    public var payload: ByteBuffer

    public init(header: WireFrameHeader, payload: ByteBuffer = ByteBuffer()) {
        self.header = header
        self.payload = payload
    }

    /// The frame's bytes, length prefix first, in a buffer of their own.
    public func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(
            capacity: WireFrameHeader.lengthPrefixSize + WireFrameHeader.encodedSize + payload.readableBytes)
        encode(into: &buffer)
        return buffer
    }

    /// Writes the frame, length prefix first.
    public func encode(into buffer: inout ByteBuffer) {
        let length = WireFrameHeader.encodedSize + payload.readableBytes
        buffer.reserveCapacity(minimumWritableBytes: WireFrameHeader.lengthPrefixSize + length)
        buffer.writeInteger(UInt32(length))
        buffer.writeWireFrameHeader(header)
        var payload = payload
        buffer.writeBuffer(&payload)
    }

    /// Reads one frame from the front of `buffer`.
    ///
    /// Returns `nil` (consuming nothing) when the frame is not complete yet. The declared length is checked against
    /// `maxLength` before anything is allocated or awaited, so a peer cannot make us buffer more than that.
    /// - Throws: ``WireError`` with reason `frame_too_large`, `frame_too_short`, `unsupported_version` or
    ///   `unknown_frame_kind`; the connection cannot continue after any of them.
    public static func decode(from buffer: inout ByteBuffer, maxLength: Int) throws(WireError) -> WireFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= maxLength else {
            throw WireError.protocolViolation(
                "frame_too_large", "frame of \(length) bytes exceeds the limit of \(maxLength)"
            )
        }
        guard length >= WireFrameHeader.encodedSize else {
            throw WireError.protocolViolation(
                "frame_too_short",
                "frame of \(length) bytes is shorter than its \(WireFrameHeader.encodedSize)-byte header"
            )
        }
        guard buffer.readableBytes >= WireFrameHeader.lengthPrefixSize + Int(length) else { return nil }
        var frameBytes = buffer.getSlice(
            at: buffer.readerIndex + WireFrameHeader.lengthPrefixSize, length: Int(length))!
        let header = try frameBytes.readWireFrameHeader()
        buffer.moveReaderIndex(forwardBy: WireFrameHeader.lengthPrefixSize + Int(length))
        return WireFrame(header: header, payload: frameBytes)
    }
}

extension ChannelHandlerContext {
    /// `frame`'s bytes as the data of a write: Wire's handlers write frames as bytes, with no encoder handler.
    func wireBytes(_ frame: WireFrame) -> NIOAny {
        NIOAny(frame.encoded(allocator: channel.allocator))
    }
}
