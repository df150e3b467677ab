// libFuzzer entry point for the Wire framing and payload codec.
//
// Every input is used three ways:
//   1. as a byte stream: `WireFrame.decode` in a loop (small `maxLength`) until it returns nil or throws; each frame
//      must re-encode to exactly the bytes it was decoded from, and its payload is decoded as every control message,
//      as the request and the response of the method in its header, as a few generic shapes, and by a small
//      "program" taken from the frame header that chains `WireReader` calls;
//   2. as the same stream fed in small chunks, which must yield the same frames and the same error;
//   3. as a raw payload, decoded directly as every message type (control and service) and shape.
// Whatever decodes must survive an encode/decode round trip unchanged.
// A thrown `WireError` is an expected outcome. A crash, a trap, a sanitizer report or a failed invariant below is a
// bug.
import NIOCore
import Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, so that the fuzzer reaches `frame_too_large` and fits several frames in one input.
let maxFrameLength = 4096

/// Frames after these get the framing checks only: an input of a hundred tiny frames would otherwise spend its time
/// decoding payloads that teach the fuzzer nothing new.
let maxPayloadsPerInput = 8

/// `WIRE_FUZZ_TRACE=1` prints what each input decodes to (for checking seeds and triaging crashes; slow).
let trace = getenv("WIRE_FUZZ_TRACE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))

    // 1. The whole input as a frame stream.
    let whole = decodeStream(input)
    for (index, (frame, bytes)) in zip(whole.frames, whole.frameBytes).enumerated() {
        if trace { print("frame \(frame.header), payload \(frame.payload.readableBytes) bytes") }
        checkFrame(frame, decodedFrom: bytes, decodingPayload: index < maxPayloadsPerInput)
    }
    if trace { print("stream ends: \(whole.error.map { "\($0)" } ?? "needs more bytes")") }

    // 2. The same stream in chunks: framing must not depend on how the bytes arrive.
    checkChunked(input, against: whole)

    // 3. The raw bytes as a payload.
    decodeRawPayload(input, program: input.getInteger(at: input.readerIndex, as: UInt64.self) ?? 0)
    return 0
}

// MARK: - Entry point

/// SwiftPM (tools version 5.5 and later) links every executable with `--defsym main=WireFuzzer_main`, expecting the
/// compiler to emit `WireFuzzer_main` as the module's entry point. Under `-parse-as-library` (which libFuzzer needs)
/// there is no such entry point, so the link fails, and libFuzzer's own `main` cannot be used. This function is that
/// entry point: it does exactly what libFuzzer's `main` does.
@_cdecl("WireFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}

/// libFuzzer's driver (`compiler-rt/lib/fuzzer/FuzzerDriver.cpp`).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

// MARK: - Framing

struct StreamResult {
    var frames: [WireFrame] = []
    /// The bytes each frame was decoded from (length prefix included).
    var frameBytes: [ByteBuffer] = []
    var error: WireError?
}

func decodeStream(_ input: ByteBuffer) -> StreamResult {
    var buffer = input
    var result = StreamResult()
    while true {
        let before = buffer.readerIndex
        do {
            guard let frame = try WireFrame.decode(from: &buffer, maxLength: maxFrameLength) else {
                check(buffer.readerIndex == before, "decode returned nil but consumed bytes", input)
                return result
            }
            check(buffer.readerIndex > before, "decode returned a frame but consumed nothing", input)
            result.frames.append(frame)
            result.frameBytes.append(input.getSlice(at: before, length: buffer.readerIndex - before)!)
        } catch {
            result.error = error
            return result
        }
    }
}

func checkChunked(_ input: ByteBuffer, against whole: StreamResult) {
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
                guard let frame = try WireFrame.decode(from: &buffer, maxLength: maxFrameLength) else { break }
                frames.append(frame)
            } catch let thrown {
                error = thrown
                break feeding
            }
        }
    }
    check(frames == whole.frames, "chunked decoding (\(chunk)-byte chunks) yields other frames", input)
    check(error == whole.error, "chunked decoding (\(chunk)-byte chunks) ends in \(String(describing: error)), "
        + "whole-buffer decoding in \(String(describing: whole.error))", input)
}

func checkFrame(_ frame: WireFrame, decodedFrom bytes: ByteBuffer, decodingPayload: Bool) {
    let encoded = encodedBytes(of: frame)
    check(encoded == bytes, "a decoded frame re-encodes to other bytes: \(hex(encoded))", bytes)
    var again = encoded
    let decoded: WireFrame?
    do {
        decoded = try WireFrame.decode(from: &again, maxLength: maxFrameLength)
    } catch {
        fail("a decoded frame's re-encoding does not decode: \(error)", encoded)
    }
    check(decoded == frame, "a decoded frame's re-encoding decodes to another frame", encoded)
    check(again.readableBytes == 0, "a re-encoded frame leaves bytes behind", encoded)

    guard decodingPayload else { return }
    let header = frame.header
    let program = header.requestID ^ UInt64(header.timeoutMillis) << 32 ^ header.traceID.low
    decodePayload(frame.payload, method: header.method, program: program)
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

// MARK: - Payloads

/// Every method of the protocol. Add new methods here: their request and response types are then decoded from frames
/// that name the method and from every raw input.
let methods: [MethodDecoder] = [
    MethodDecoder(HealthCheck.self),
    // TweetService
    MethodDecoder(CreateUser.self),
    MethodDecoder(Authenticate.self),
    MethodDecoder(ResolveToken.self),
    MethodDecoder(RevokeToken.self),
    MethodDecoder(GetUsers.self),
    MethodDecoder(GetUserByUsername.self),
    MethodDecoder(Follow.self),
    MethodDecoder(Unfollow.self),
    MethodDecoder(ListFollowers.self),
    MethodDecoder(ListFollowing.self),
    MethodDecoder(ListFollowerIDs.self),
    MethodDecoder(ListFollowingIDs.self),
    MethodDecoder(CreateTweet.self),
    MethodDecoder(GetTweets.self),
    MethodDecoder(DeleteTweet.self),
    MethodDecoder(ListUserTweets.self),
    MethodDecoder(ListRecentTweets.self),
    // TimelineService
    MethodDecoder(DeliverEvents.self),
    MethodDecoder(ReadPublicTimeline.self),
    MethodDecoder(ReadHomeTimeline.self),
    MethodDecoder(ReadProfileTimeline.self),
    MethodDecoder(ReadQueueStats.self),
]

/// Messages that travel only inside others, decoded from raw inputs on their own too.
let nestedMessages: [MessageDecoder] = [
    MessageDecoder(TimelineEvent.self),
]

/// The request and response types of every method, and the nested messages, each once (many methods share them).
let methodMessages: [MessageDecoder] = {
    var seen = Set<ObjectIdentifier>()
    return (methods.flatMap { method in [method.request, method.response] } + nestedMessages)
        .filter { seen.insert($0.type).inserted }
}()

struct MessageDecoder: Sendable {
    let type: ObjectIdentifier
    let decode: @Sendable (ByteBuffer) -> Void

    init<Message: WireMessage & Equatable>(_: Message.Type) {
        type = ObjectIdentifier(Message.self)
        decode = { payload in roundTrip(Message.self, payload) }
    }
}

struct MethodDecoder: Sendable {
    let id: UInt16
    let request: MessageDecoder
    let response: MessageDecoder

    init<Method: WireMethod>(_: Method.Type) where Method.Request: Equatable, Method.Response: Equatable {
        id = Method.id.rawValue
        request = MessageDecoder(Method.Request.self)
        response = MessageDecoder(Method.Response.self)
    }
}

/// Decodes a frame's payload as the control messages, as the request and the response of the method its header names
/// (what a server and a client do with it), as the generic shapes, and by a program.
func decodePayload(_ payload: ByteBuffer, method: WireMethodID, program: UInt64) {
    decodeControlMessagesAndShapes(payload)
    for decoder in methods where decoder.id == method.rawValue {
        decoder.request.decode(payload)
        decoder.response.decode(payload)
    }
    run(program, on: payload)
}

/// Decodes raw bytes as every message type.
func decodeRawPayload(_ payload: ByteBuffer, program: UInt64) {
    decodeControlMessagesAndShapes(payload)
    for decoder in methodMessages {
        decoder.decode(payload)
    }
    run(program, on: payload)
}

func decodeControlMessagesAndShapes(_ payload: ByteBuffer) {
    roundTrip(WireHello.self, payload)
    roundTrip(WireHelloAck.self, payload)
    roundTrip(WireErrorPayload.self, payload)
    roundTrip(WireGoAway.self, payload)
    roundTrip(HealthCheck.Response.self, payload)
    roundTrip(WireEmpty.self, payload)
    roundTrip(Scalars.self, payload)
    roundTrip(Collections.self, payload)
    roundTrip(Nested.self, payload)
    roundTrip(Tree.self, payload)
}

/// Decodes `payload` as `Message`; when that works, the message must survive an encode/decode round trip.
func roundTrip<Message: WireMessage & Equatable>(_: Message.Type, _ payload: ByteBuffer) {
    let message: Message
    do {
        message = try Message(payload: payload)
        if trace { print("  as \(Message.self): \(message)") }
    } catch {
        if trace { print("  as \(Message.self): \(error)") }
        return
    }
    let encoded = message.payload()
    do {
        let again = try Message(payload: encoded)
        check(again == message, "\(Message.self) changes in an encode/decode round trip", payload)
    } catch {
        fail("\(Message.self) decodes, but its re-encoding does not: \(error)", payload)
    }
}

/// Runs up to 16 `WireReader` calls chosen by the nibbles of `program`, stopping at the first error.
func run(_ program: UInt64, on payload: ByteBuffer) {
    var reader = WireReader(buffer: payload)
    var program = program
    do {
        for _ in 0..<16 {
            let before = reader.remainingBytes
            switch program & 0xF {
            case 0: _ = try reader.read(UInt8.self)
            case 1: _ = try reader.read(UInt16.self)
            case 2: _ = try reader.read(UInt32.self)
            case 3: _ = try reader.read(UInt64.self)
            case 4: _ = try reader.read(Bool.self)
            case 5: _ = try reader.read(String.self)
            case 6: _ = try reader.read(String.self, maxBytes: 8)
            case 7: _ = try reader.readBytes()
            case 8: _ = try reader.read([UInt64].self)
            case 9:
                _ = try reader.readArray { (reader: inout WireReader) throws(WireError) in try reader.read(UInt8.self) }
            case 10:
                // Elements that take no bytes: the count is still bounded by the remaining bytes.
                _ = try reader.readArray(minimumElementSize: 0) { (_: inout WireReader) throws(WireError) in 0 }
            case 11:
                _ = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
                    try reader.read(String.self)
                }
            case 12: _ = try reader.read(WireEmpty.self)
            case 13: _ = try reader.read([WireHello].self)
            case 14:
                _ = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.readBytes() }
            default:
                _ = try reader.readArray(minimumElementSize: 4) { (reader: inout WireReader) throws(WireError) in
                    try reader.read(String.self)
                }
            }
            check(reader.remainingBytes <= before, "a WireReader call moved the reader backwards", payload)
            program >>= 4
        }
    } catch {
        // Malformed input: expected.
    }
}

// MARK: - Generic shapes

/// Every scalar the reader knows.
struct Scalars: WireMessage, Equatable {
    var u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64, i32: Int32, flag: Bool

    init(from reader: inout WireReader) throws(WireError) {
        u8 = try reader.read()
        u16 = try reader.read()
        u32 = try reader.read()
        u64 = try reader.read()
        i32 = try reader.read()
        flag = try reader.read()
    }

    func encode(to writer: inout WireWriter) {
        writer.write(u8)
        writer.write(u16)
        writer.write(u32)
        writer.write(u64)
        writer.write(i32)
        writer.write(flag)
    }
}

/// Strings, bytes, arrays and optionals.
struct Collections: WireMessage, Equatable {
    var name: String
    var ids: [UInt64]
    var tags: [String]
    var blob: ByteBuffer?
    var note: String?

    init(from reader: inout WireReader) throws(WireError) {
        name = try reader.read(String.self, maxBytes: 64)
        ids = try reader.read([UInt64].self)
        tags = try reader.readArray(minimumElementSize: 4) { (reader: inout WireReader) throws(WireError) in
            try reader.read(String.self)
        }
        blob = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.readBytes() }
        note = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(String.self) }
    }

    func encode(to writer: inout WireWriter) {
        writer.write(name)
        writer.write(ids)
        writer.write(tags) { writer, tag in writer.write(tag) }
        writer.write(blob) { writer, blob in writer.write(bytes: blob) }
        writer.write(note) { writer, note in writer.write(note) }
    }
}

/// Nested messages, alone and in arrays.
struct Nested: WireMessage, Equatable {
    var hello: WireHello
    var errors: [WireErrorPayload]
    var goAway: WireGoAway?

    init(from reader: inout WireReader) throws(WireError) {
        hello = try reader.read(WireHello.self)
        errors = try reader.read([WireErrorPayload].self)
        goAway = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(WireGoAway.self)
        }
    }

    func encode(to writer: inout WireWriter) {
        writer.write(hello)
        writer.write(errors)
        writer.write(goAway) { writer, goAway in writer.write(goAway) }
    }
}

/// A recursive message: every level costs at least five bytes, so the depth is bounded by the input.
struct Tree: WireMessage, Equatable {
    var value: UInt8
    var children: [Tree]

    init(from reader: inout WireReader) throws(WireError) {
        value = try reader.read()
        children = try reader.read([Tree].self)
    }

    func encode(to writer: inout WireWriter) {
        writer.write(value)
        writer.write(children)
    }
}

// MARK: - Reporting

func check(_ condition: Bool, _ message: @autoclosure () -> String, _ bytes: ByteBuffer) {
    if !condition { fail(message(), bytes) }
}

func fail(_ message: String, _ bytes: ByteBuffer) -> Never {
    fatalError("WireFuzzer: \(message); input: \(hex(bytes))")
}

func hex(_ bytes: ByteBuffer) -> String {
    bytes.readableBytesView.map { byte in hexDigits(byte) }.joined()
}

func hexDigits(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
