import NIOCore

/// Where a ``ClientConnection`` writes its finished frames: a pass-through handler placed
/// between the socket and NIO's WebSocket frame encoder, so bytes written from here skip the
/// encoder. (The encoder stays in the pipeline because the upgrader installs it and it cannot
/// be removed; nothing reaches it.)
final class FrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes and flushes one frame.
    func writeAndFlush(_ frame: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Writes and flushes one frame; the future completes once it is written (or failed).
    func writeAndFlush(_ frame: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeSucceededVoidFuture() }
        return context.writeAndFlush(wrapOutboundOut(frame))
    }

    /// Writes one frame without flushing (a batch ends with ``flush()``).
    func write(_ frame: ByteBuffer) {
        context?.write(wrapOutboundOut(frame), promise: nil)
    }

    func flush() {
        context?.flush()
    }
}
