import NIOCore

/// Splits a byte stream into ``WireFrame``s, refusing any frame longer than its limit before buffering it.
public struct WireFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = WireFrame

    public let maxFrameLength: Int

    public init(maxFrameLength: Int = WireFrame.defaultMaxLength) {
        self.maxFrameLength = maxFrameLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> WireFrame? {
        try WireFrame.decode(from: &buffer, maxLength: maxFrameLength)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> WireFrame? {
        try decode(buffer: &buffer)
    }
}

/// Writes ``WireFrame``s, length prefix first.
public struct WireFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = WireFrame

    public init() {}

    public func encode(data: WireFrame, out: inout ByteBuffer) {
        data.encode(into: &out)
    }
}
