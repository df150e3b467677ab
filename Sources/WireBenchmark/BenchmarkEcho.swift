import NIOCore
import Wire

/// The one method the Wire side of the benchmark serves: it answers with the bytes it was sent.
///
/// It lives here, not in `Wire`, because no service calls it; its id is outside the range services use.
enum BenchmarkEcho: WireMethod {
    static let id = WireMethodID(rawValue: 60001)
    static let name = "benchmark_echo"
    static let callers = WireCallers(.operator)

    /// Request and response alike: opaque bytes.
    struct Message: WireMessage {
        var bytes: ByteBuffer

        init(bytes: ByteBuffer) {
            self.bytes = bytes
        }

        init(from reader: inout WireReader) throws(WireError) {
            bytes = try reader.readBytes()
        }

        func encode(to writer: inout WireWriter) {
            writer.write(bytes: bytes)
        }
    }

    typealias Request = Message
    typealias Response = Message

    /// Bounded by the frame alone: the benchmark measures frames of every size up to the limit.
    static func checkBounds(_ request: Request) {}

    /// The request every call sends: `payloadSize` bytes.
    static func request(payloadSize: Int) -> Message {
        Message(bytes: ByteBuffer(repeating: 0xA5, count: payloadSize))
    }

    /// Bytes one request takes on the wire: length prefix, header and payload. The echo baseline sends and reads
    /// back frames of exactly this size, so both sides move the same bytes per round trip.
    static func frameSize(payloadSize: Int) -> Int {
        let frame = WireFrame(
            header: WireFrameHeader(kind: .request, method: id), payload: request(payloadSize: payloadSize).payload())
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        return buffer.readableBytes
    }
}
