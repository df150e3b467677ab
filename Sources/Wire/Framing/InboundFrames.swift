import NIOCore

/// The frames in the bytes one connection has read so far. The connection's handler reads raw bytes and takes the
/// frames out as they complete: no decoder handler in front of it, so no frame is boxed and passed between handlers,
/// and no generic decoder machinery runs per read.
///
/// The bytes of a frame not complete yet stay here until the rest arrives. Its declared length is checked against
/// the limit as soon as its length prefix is here (``WireFrame/decode(from:maxLength:)``), so a peer cannot make a
/// connection keep more than one frame's worth of bytes beyond what it has already read.
struct InboundFrames {
    let maxFrameLength: Int
    /// Bytes read and not yet taken as frames; `nil` when there are none (the next read is taken without a copy).
    private var unread: ByteBuffer?

    init(maxFrameLength: Int) {
        self.maxFrameLength = maxFrameLength
    }

    /// Adds what the connection read.
    mutating func append(_ bytes: ByteBuffer) {
        guard var unread = self.unread.take() else {
            self.unread = bytes
            return
        }
        unread.writeImmutableBuffer(bytes)
        self.unread = unread
    }

    /// The next complete frame, or `nil` until more bytes arrive.
    /// - Throws: as ``WireFrame/decode(from:maxLength:)``; the connection cannot continue after it.
    mutating func next() throws(WireError) -> WireFrame? {
        guard var unread = self.unread.take() else { return nil }
        let frame = try WireFrame.decode(from: &unread, maxLength: maxFrameLength)
        self.unread = unread.readableBytes > 0 ? unread : nil
        return frame
    }
}
