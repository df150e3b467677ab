import NIOCore

/// The frames in the bytes one connection has read so far. The connection's handler reads raw bytes and takes the
/// frames out as they complete: no decoder handler in front of it, so no frame is boxed and passed between handlers,
/// and no generic decoder machinery runs per read.
///
/// What it keeps is the start of the one frame not complete yet: the frames before it are handed out, and the bytes
/// they took are let go of before the next read is added (so a run of reads that each end inside a frame does not
/// pile up). That frame's declared length is checked against the limit as soon as its length prefix is here
/// (``WireFrame/decode(from:maxLength:)``), so a peer cannot make a connection keep more than one frame and one read.
///
/// After a framing error it hands out nothing more: the stream cannot be resynchronised, and the connection closes.
struct InboundFrames {
    let maxFrameLength: Int
    /// Bytes read and not yet taken as frames; `nil` when there are none (the next read is taken without a copy).
    private var unread: ByteBuffer?
    private var failed = false

    init(maxFrameLength: Int) {
        self.maxFrameLength = maxFrameLength
    }

    /// The bytes this keeps in memory: the unread ones and any already taken in front of them in the same storage.
    var keptBytes: Int { unread?.writerIndex ?? 0 }

    /// Adds what the connection read (nothing after a framing error).
    mutating func append(_ bytes: ByteBuffer) {
        guard !failed else { return }
        guard var unread = self.unread.take() else {
            self.unread = bytes
            return
        }
        // Drops the frames already taken: moves the incomplete one to the front, or copies it alone when their
        // payloads still share its storage.
        unread.discardReadBytes()
        unread.writeImmutableBuffer(bytes)
        self.unread = unread
    }

    /// The next complete frame, or `nil` until more bytes arrive (and for good after a framing error).
    /// - Throws: as ``WireFrame/decode(from:maxLength:)``, once; the connection cannot continue after it.
    mutating func next() throws(WireError) -> WireFrame? {
        guard !failed, var unread = self.unread.take() else { return nil }
        do {
            let frame = try WireFrame.decode(from: &unread, maxLength: maxFrameLength)
            self.unread = unread.readableBytes > 0 ? unread : nil
            return frame
        } catch {
            failed = true
            throw error
        }
    }
}
