import NIOCore
import NIOWebSocket

/// Refuses a client frame that is not masked (RFC 6455 §5.1: "a server MUST close the
/// connection upon receiving a frame that is not masked"). It sits between NIO's frame decoder
/// and the fragment aggregator, because the aggregator forgets the mask of the fragments it
/// joins; NIO's decoder itself accepts unmasked frames.
final class MaskedFramesOnly: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    /// What ``ClientConnection`` answers with close code 1002.
    struct UnmaskedFrame: Error {}

    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        guard unwrapInboundIn(data).maskKey != nil else {
            failed = true  // nothing after a protocol error is read
            context.fireErrorCaught(UnmaskedFrame())
            return
        }
        context.fireChannelRead(data)
    }
}
