import NIOCore
import Wire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The checks the Wire fuzzer runs on every input (`docs/fuzzing.md`, "What one input exercises"), in a module of
/// their own so that libFuzzer's entry point (`Fuzz/`) and the test that replays the seed corpus run the same ones.
///
/// Every input is used three ways:
///   1. as a byte stream: `WireFrame.decode` in a loop (small `maxLength`) until it returns nil or throws; each frame
///      must re-encode to exactly the bytes it was decoded from, and its payload is decoded as every control message,
///      as the request and the response of the method in its header, as a few generic shapes, and by a small
///      "program" taken from the frame header that chains `WireReader` calls;
///   2. as the same stream fed in small chunks, which must yield the same frames and the same error;
///   3. as a raw payload, decoded directly as every message type (control and service) and shape.
/// Whatever decodes must survive an encode/decode round trip unchanged. A thrown `WireError` is an expected outcome;
/// a crash, a trap, a sanitizer report or a ``WireFuzzFailure`` is a bug.
public enum WireFuzzChecks {
    /// Small, so that the fuzzer reaches `frame_too_large` and fits several frames in one input.
    static let maxFrameLength = 4096

    /// Frames after these get the framing checks only: an input of a hundred tiny frames would otherwise spend its
    /// time decoding payloads that teach the fuzzer nothing new.
    static let maxPayloadsPerInput = 8

    /// Runs every check on `input`.
    ///
    /// - Throws: ``WireFuzzFailure`` naming the invariant that failed and the input.
    public static func check(_ input: ByteBuffer) throws(WireFuzzFailure) {
        // 1. The whole input as a frame stream.
        let whole = try decodeStream(input)
        for (index, (frame, bytes)) in zip(whole.frames, whole.frameBytes).enumerated() {
            if trace { print("frame \(frame.header), payload \(frame.payload.readableBytes) bytes") }
            try checkFrame(frame, decodedFrom: bytes, decodingPayload: index < maxPayloadsPerInput)
        }
        if trace { print("stream ends: \(whole.error.map { "\($0)" } ?? "needs more bytes")") }

        // 2. The same stream in chunks: framing must not depend on how the bytes arrive.
        try checkChunked(input, against: whole)

        // 3. The raw bytes as a payload.
        try decodeRawPayload(input, program: input.getInteger(at: input.readerIndex, as: UInt64.self) ?? 0)
    }

    /// The methods whose request and response types the checks decode (every method of the protocol should be here).
    public static var methodIDs: [WireMethodID] {
        methods.map { WireMethodID(rawValue: $0.id) }
    }
}

/// An invariant of the codec that an input broke.
public struct WireFuzzFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The bytes at fault, in hex (`echo <hex> | xxd -r -p` turns them back into a file).
    public var input: String

    init(_ message: String, _ bytes: ByteBuffer) {
        self.message = message
        self.input = Hex.encode(bytes.readableBytesView)
    }

    public var description: String { "\(message); input: \(input)" }
}

/// `WIRE_FUZZ_TRACE=1` prints what each input decodes to (for checking seeds and triaging crashes; slow).
let trace = getenv("WIRE_FUZZ_TRACE") != nil

func check(_ condition: Bool, _ message: @autoclosure () -> String, _ bytes: ByteBuffer) throws(WireFuzzFailure) {
    if !condition { throw WireFuzzFailure(message(), bytes) }
}

// MARK: - Framing

struct StreamResult {
    var frames: [WireFrame] = []
    /// The bytes each frame was decoded from (length prefix included).
    var frameBytes: [ByteBuffer] = []
    var error: WireError?
}

func decodeStream(_ input: ByteBuffer) throws(WireFuzzFailure) -> StreamResult {
    var buffer = input
    var result = StreamResult()
    while true {
        let before = buffer.readerIndex
        let decoded: WireFrame?
        do {
            decoded = try WireFrame.decode(from: &buffer, maxLength: WireFuzzChecks.maxFrameLength)
        } catch {
            result.error = error
            return result
        }
        guard let frame = decoded else {
            try check(buffer.readerIndex == before, "decode returned nil but consumed bytes", input)
            return result
        }
        try check(buffer.readerIndex > before, "decode returned a frame but consumed nothing", input)
        result.frames.append(frame)
        result.frameBytes.append(input.getSlice(at: before, length: buffer.readerIndex - before)!)
    }
}

func checkChunked(_ input: ByteBuffer, against whole: StreamResult) throws(WireFuzzFailure) {
    guard input.readableBytes > 0 else { return }
    // From the last byte: the first is almost always 0 (the top of a frame length), and feeding every input a byte at
    // a time would cost more than everything else together.
    let chunk = 1 + Int(input.getInteger(at: input.writerIndex - 1, as: UInt8.self)! % 64)
    var source = input
    var buffer = ByteBuffer()
    var frames: [WireFrame] = []
    var error: WireError?
    feeding: while source.readableBytes > 0 {
        var slice = source.readSlice(length: min(chunk, source.readableBytes))!
        buffer.writeBuffer(&slice)
        while true {
            do {
                guard let frame = try WireFrame.decode(from: &buffer, maxLength: WireFuzzChecks.maxFrameLength) else {
                    break
                }
                frames.append(frame)
            } catch let thrown {
                error = thrown
                break feeding
            }
        }
    }
    try check(frames == whole.frames, "chunked decoding (\(chunk)-byte chunks) yields other frames", input)
    try check(
        error == whole.error,
        "chunked decoding (\(chunk)-byte chunks) ends in \(String(describing: error)), "
            + "whole-buffer decoding in \(String(describing: whole.error))", input
    )
}

func checkFrame(_ frame: WireFrame, decodedFrom bytes: ByteBuffer, decodingPayload: Bool) throws(WireFuzzFailure) {
    let encoded = encodedBytes(of: frame)
    try check(
        encoded == bytes, "a decoded frame re-encodes to other bytes: \(Hex.encode(encoded.readableBytesView))", bytes)
    var again = encoded
    let decoded: WireFrame?
    do {
        decoded = try WireFrame.decode(from: &again, maxLength: WireFuzzChecks.maxFrameLength)
    } catch {
        throw WireFuzzFailure("a decoded frame's re-encoding does not decode: \(error)", encoded)
    }
    try check(decoded == frame, "a decoded frame's re-encoding decodes to another frame", encoded)
    try check(again.readableBytes == 0, "a re-encoded frame leaves bytes behind", encoded)

    guard decodingPayload else { return }
    let header = frame.header
    let program = header.requestID ^ UInt64(header.timeoutMillis) << 32 ^ header.traceID.low
    try decodePayload(frame.payload, method: header.method, program: program)
}

/// A separate, non-inlined function: with `var encoded = ByteBuffer(); frame.encode(into: &encoded)` written inline in
/// `checkFrame`, Swift 6.3.1 with `-sanitize=fuzzer,address -O` crashes ("SIL verification failed: read-only scope
/// invalidated by a local write").
@inline(never)
func encodedBytes(of frame: WireFrame) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 4 + WireFrameHeader.encodedSize + frame.payload.readableBytes)
    frame.encode(into: &buffer)
    return buffer
}
