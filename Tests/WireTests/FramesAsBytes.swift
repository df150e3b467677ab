import NIOCore
import NIOEmbedded

@testable import Wire

/// Lets a test talk frames to a handler that reads and writes bytes: put it in front of the handler on a testing
/// channel. A frame written inbound reaches the handler as its bytes; each buffer the handler writes is read back
/// outbound as the one frame it holds.
final class FramesAsBytes: ChannelDuplexHandler {
    typealias InboundIn = WireFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WireFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(unwrapInboundIn(data).encoded(allocator: context.channel.allocator)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        do {
            guard let frame = try WireFrame.decode(from: &bytes, maxLength: WireFrame.defaultMaxLength),
                bytes.readableBytes == 0
            else {
                throw WireError(.internal, "the handler wrote something other than one whole frame")
            }
            context.write(wrapOutboundOut(frame), promise: promise)
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}

extension FramesAsBytes {
    /// Hands `bytes` to the handler behind the adapter in `pipeline` as one read, as a socket would: any number of
    /// frames and parts of frames. Call it on the pipeline's event loop.
    static func read(_ bytes: ByteBuffer, through pipeline: ChannelPipeline) throws {
        let context = try pipeline.syncOperations.context(handlerType: FramesAsBytes.self)
        context.fireChannelRead(NIOAny(bytes))
        context.fireChannelReadComplete()
    }
}

extension NIOAsyncTestingChannel {
    /// ``FramesAsBytes/read(_:through:)`` on this channel.
    func readBytes(_ bytes: ByteBuffer) async throws {
        try await testingEventLoop.executeInContext { try FramesAsBytes.read(bytes, through: self.pipeline) }
    }
}

extension EmbeddedChannel {
    /// ``FramesAsBytes/read(_:through:)`` on this channel.
    func readBytes(_ bytes: ByteBuffer) throws {
        try FramesAsBytes.read(bytes, through: pipeline)
    }
}
