import NIOCore
import Testing

@testable import Wire

@Suite("Frames")
struct WireFrameTests {
    static let requestGolden = """
        00000034 02 03 0000 0000000000000007 ea60 000005dc 0102030405060708 090a0b0c0d0e0f10
        000000000000002a 00000000 00000002 6869
        """
    static let helloGolden = """
        00000053 02 01 0000 0000000000000000 0000 00000000 0000000000000000 0000000000000000
        02 02 00000007 67617465776179 00000020 \(String(repeating: "aa", count: 32))
        """

    @Test func requestFrameMatchesGoldenBytes() throws {
        let header = WireFrameHeader(
            kind: .request, requestID: 7, method: WireMethodID(rawValue: 60_000), timeoutMillis: 1500,
            traceID: WireTraceID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        )
        let frame = WireFrame(header: header, payload: Echo.Request(value: 42, text: "hi").payload())
        var encoded = ByteBuffer()
        frame.encode(into: &encoded)
        #expect(encoded.hex == bytes(Self.requestGolden).hex)

        var input = bytes(Self.requestGolden)
        let decoded = try #require(try WireFrame.decode(from: &input, maxLength: 1024))
        #expect(decoded.header == header)
        #expect(try Echo.Request(payload: decoded.payload) == Echo.Request(value: 42, text: "hi"))
        #expect(input.readableBytes == 0)
    }

    @Test func traceIDsPrintAsThirtyTwoHexDigitsAndParseBack() {
        let trace = WireTraceID(high: 0x0102_0304_0506_0708, low: 0xF0E0_D0C0_B0A0_9080)
        #expect(trace.description == "0102030405060708f0e0d0c0b0a09080")
        #expect(WireTraceID(trace.description) == trace)
        #expect(WireTraceID(high: 0, low: 0).description == String(repeating: "0", count: 32))
        let random = WireTraceID.random()
        #expect(WireTraceID(random.description) == random)
    }

    @Test func helloFrameMatchesGoldenBytes() throws {
        let frame = WireFrame(
            header: WireFrameHeader(kind: .hello),
            payload: WireHello(role: "gateway", nonce: ByteBuffer(repeating: 0xAA, count: 32)).payload())
        var encoded = ByteBuffer()
        frame.encode(into: &encoded)
        #expect(encoded.hex == bytes(Self.helloGolden).hex)
    }

    @Test func errorPayloadMatchesGoldenBytes() throws {
        let payload = WireErrorPayload(WireError(.notFound, reason: "no_user", "x")).payload()
        #expect(payload.hex == bytes("0001 00000007 6e6f5f75736572 00000001 78").hex)
        #expect(try WireErrorPayload(payload: payload).error == WireError(.notFound, reason: "no_user", "x"))
    }

    @Test func incompleteFrameConsumesNothing() throws {
        let whole = bytes(Self.requestGolden)
        for cut in [0, 3, 4, 20, whole.readableBytes - 1] {
            var partial = whole.getSlice(at: 0, length: cut)!
            #expect(try WireFrame.decode(from: &partial, maxLength: 1024) == nil)
            #expect(partial.readableBytes == cut)
        }
    }

    @Test func frameOverTheLimitIsRefusedFromItsPrefixAlone() {
        var input = bytes("7fffffff 01")
        #expect(
            throws: WireError.protocolViolation(
                "frame_too_large", "frame of 2147483647 bytes exceeds the limit of 1024")
        ) {
            try WireFrame.decode(from: &input, maxLength: 1024)
        }
    }

    @Test(arguments: [
        ("00000010 01 03", "frame_too_short"),
        ("00000022 01 03 0000 0000000000000000 0000 00000000 0000000000000000 0000000000000000", "unsupported_version"),
        ("00000022 02 63 0000 0000000000000000 0000 00000000 0000000000000000 0000000000000000", "unknown_frame_kind"),
    ])
    func malformedHeaderIsATypedError(hex: String, reason: String) {
        var input = bytes(hex)
        do {
            _ = try WireFrame.decode(from: &input, maxLength: 1024)
            Issue.record("decoded a malformed frame")
        } catch {
            #expect(error.reason == reason)
        }
    }

    @Test func twoFramesInOneBufferDecodeInOrder() throws {
        var input = bytes(Self.helloGolden + Self.requestGolden)
        #expect(try WireFrame.decode(from: &input, maxLength: 1024)?.header.kind == .hello)
        #expect(try WireFrame.decode(from: &input, maxLength: 1024)?.header.kind == .request)
        #expect(try WireFrame.decode(from: &input, maxLength: 1024) == nil)
    }
}
