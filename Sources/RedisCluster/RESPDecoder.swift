import NIOCore

/// Turns the bytes a Redis server sends into ``RedisValue``s, one `channelRead` per reply, in order.
///
/// The parsing is hiredis's (through ``RESPReader``): every chunk the channel reads is handed to the reader whole and
/// every reply it completes is fired on, so a reply split over any number of reads, or many replies in one read,
/// decode the same. A malformed or oversized reply throws a ``RedisError``, which closes the connection.
final class RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RedisValue

    private let reader: RESPReader

    /// - Parameter limits: bounds for one reply; see ``RESPReaderLimits``.
    init(limits: RESPReaderLimits = RESPReaderLimits()) {
        reader = RESPReader(limits: limits)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            try reader.feed(buffer)
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        while let value = try reader.next() {
            context.fireChannelRead(wrapInboundOut(value))
        }
        return .needMoreData
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A reply cut off by EOF is simply dropped: its command fails with `connection_closed` when the channel goes.
        try decode(context: context, buffer: &buffer)
    }
}
