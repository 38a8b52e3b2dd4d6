import NIOCore

/// Writes a broadcast's frame, encoded once for every client (header and payload in one
/// buffer, ``Broadcast``), straight to the socket: it sits between NIO's WebSocket frame encoder
/// and the socket, so a buffer written from here skips the encoder, while everything the
/// encoder writes passes through it unchanged.
///
/// Through the encoder each client cost a header buffer of its own and a two-part write; at a
/// thousand clients that was a tenth of the server's CPU. Frames still go through NIO's
/// pipeline, its write buffer, writability and errors, and keep their order: both ways end at
/// the same socket, written on the same event loop in the order the connection wrote them.
final class EncodedFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes an encoded frame; it leaves with the next ``flush()``.
    func write(_ frame: ByteBuffer) {
        context?.write(wrapOutboundOut(frame), promise: nil)
    }

    func flush() {
        context?.flush()
    }
}
