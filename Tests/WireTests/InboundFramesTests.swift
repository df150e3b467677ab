import NIOCore
import Testing

@testable import Wire

@Suite("Inbound frames")
struct InboundFramesTests {
    private func frame(_ id: UInt64, payloadBytes: Int) -> WireFrame {
        WireFrame(
            header: WireFrameHeader(kind: .request, requestID: id, method: Echo.id),
            payload: ByteBuffer(repeating: UInt8(truncatingIfNeeded: id), count: payloadBytes))
    }

    private func bytes(of frames: [WireFrame]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames {
            frame.encode(into: &buffer)
        }
        return buffer
    }

    /// However the bytes are cut into reads, the same frames come out, in order, each once it is complete.
    @Test func framesComeOutWholeWhateverTheReads() throws {
        let sent = [frame(1, payloadBytes: 0), frame(2, payloadBytes: 20), frame(3, payloadBytes: 300)]
        let all = bytes(of: sent)
        for readSize in [1, 3, 4, 37, 38, 39, 100, all.readableBytes] {
            var frames = InboundFrames(maxFrameLength: 1024)
            var received: [WireFrame] = []
            var rest = all
            while let read = rest.readSlice(length: min(readSize, rest.readableBytes)), read.readableBytes > 0 {
                frames.append(read)
                while let frame = try frames.next() {
                    received.append(frame)
                }
            }
            #expect(received == sent, "reads of \(readSize) bytes")
            #expect(try frames.next() == nil)
        }
    }

    /// A frame over the limit is refused as soon as its length prefix is read, before its body arrives.
    @Test func anOversizeFrameIsRefusedFromItsPrefix() throws {
        var frames = InboundFrames(maxFrameLength: 64)
        frames.append(bytes(of: [frame(1, payloadBytes: 10)]))
        #expect(try frames.next()?.header.requestID == 1)
        var prefix = ByteBuffer()
        prefix.writeInteger(UInt32(65))
        frames.append(prefix)
        let error = #expect(throws: WireError.self) { try frames.next() }
        #expect(error?.reason == "frame_too_large")
    }

    /// A frame still incomplete keeps its bytes for the next read: nothing is lost between reads.
    @Test func anIncompleteFrameWaitsForTheRest() throws {
        var whole = bytes(of: [frame(7, payloadBytes: 50)])
        var frames = InboundFrames(maxFrameLength: 1024)
        frames.append(whole.readSlice(length: 40)!)
        #expect(try frames.next() == nil)
        #expect(try frames.next() == nil, "asking again takes nothing")
        frames.append(whole)
        let frame = try #require(try frames.next())
        #expect(frame.header.requestID == 7 && frame.payload.readableBytes == 50)
    }

    /// Reads that each end inside a frame do not pile up: what is kept stays within one frame and one read.
    @Test func readsEndingInsideFramesDoNotPileUp() throws {
        let stream = bytes(of: (1...400).map { frame($0, payloadBytes: 62) })  // 100 bytes a frame
        var frames = InboundFrames(maxFrameLength: 1024)
        var rest = stream
        var received = 0
        while let read = rest.readSlice(length: min(151, rest.readableBytes)), read.readableBytes > 0 {
            frames.append(read)
            while try frames.next() != nil {
                received += 1
            }
            #expect(frames.keptBytes <= 100 + 151, "after \(received) frames")
        }
        #expect(received == 400)
    }

    /// After a framing error nothing more comes out, not even whole frames read afterwards: the stream cannot be
    /// trusted again.
    @Test func nothingComesOutAfterAFramingError() throws {
        var frames = InboundFrames(maxFrameLength: 64)
        var tooLarge = ByteBuffer()
        tooLarge.writeInteger(UInt32(65))
        frames.append(tooLarge)
        #expect(throws: WireError.self) { try frames.next() }
        frames.append(bytes(of: [frame(2, payloadBytes: 1)]))
        #expect(try frames.next() == nil)
        #expect(frames.keptBytes == 0)
    }
}
