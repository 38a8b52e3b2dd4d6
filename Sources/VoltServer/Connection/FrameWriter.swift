import NIOCore

/// Where a ``ClientConnection`` writes its finished frames: straight to the kernel through the
/// connection's ``ChannelSocket`` while nothing waits in NIO, otherwise through NIO. It is a
/// pass-through handler placed between the socket and NIO's WebSocket frame encoder, so bytes
/// it hands to NIO skip the encoder. (The encoder stays in the pipeline because the upgrader
/// installs it and it cannot be removed; nothing reaches it.)
///
/// Order on the wire is kept by one rule: a frame goes direct only when no earlier frame is
/// still with NIO. The first frame always goes through NIO, so the handshake's `101` response
/// (written by NIO before this handler existed) is out before any direct byte; a frame the
/// kernel takes only in part leaves its rest with NIO, and every frame after it follows through
/// NIO until NIO reports all of them written. NIO therefore still does what needs an event
/// loop's care: waiting for a full socket to drain, writability, errors and closing.
///
/// The same rule covers the publisher, which may write broadcasts to the socket itself through
/// the connection's ``ExpressLane``: the writer keeps the lane open only while frames may go
/// direct, and hands NIO whatever the publisher left unfinished before any frame of its own.
final class FrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The connection's socket, shared with the publisher (see ``ExpressLane``); every direct
    /// send, ours or the publisher's, goes through it.
    let lane: ExpressLane
    private var context: ChannelHandlerContext?
    private var hasSocket = false
    /// Frames handed to NIO and not yet reported written (or failed).
    private var withNIO = 0
    /// True once a frame written through NIO completed: everything NIO had before it is out.
    private var primed = false
    /// Set by the connection: whether its broadcasts may skip its outbox now (joined, socket
    /// writable, nothing queued). The lane is open while this holds and ``isDirect``.
    var broadcastsFlow = false {
        didSet { if broadcastsFlow != oldValue { updateLane() } }
    }

    init(kind: ClientKind = .webSocket) {
        lane = ExpressLane(kind: kind)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let socket = ChannelSocket.duplicate(local: context.channel.localAddress, remote: context.channel.remoteAddress)
        hasSocket = socket != nil
        lane.attach(socket)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        self.context = nil
    }

    /// Whether the next frame may bypass NIO: there is a socket, NIO has written a frame of
    /// ours (so the handshake is out), and nothing waits with NIO.
    var isDirect: Bool { hasSocket && primed && withNIO == 0 }

    /// Opens the lane to the publisher when broadcasts flow and frames may bypass NIO, and
    /// closes it otherwise. (It stays closed while the publisher left something here: the
    /// connection takes that first, then calls this again.)
    func updateLane() {
        lane.update(mayOpen: broadcastsFlow && isDirect)
    }

    /// Gives up the direct path and its descriptor; called when the channel goes inactive, so
    /// the socket closes together with NIO's descriptor.
    func release() {
        hasSocket = false
        broadcastsFlow = false
        lane.release()
    }

    /// Writes and flushes one frame.
    func writeAndFlush(_ frame: ByteBuffer) {
        guard let rest = sendDirect(frame) else { return }
        toNIO(rest, flush: true)
    }

    /// Writes and flushes one frame; the future completes once it is written (or failed).
    func writeAndFlush(_ frame: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let rest = sendDirect(frame), let future = toNIO(rest, flush: true) else {
            return eventLoop.makeSucceededVoidFuture()
        }
        return future
    }

    /// Writes one frame; when it goes through NIO it waits for ``flush()``, which ends a batch.
    func write(_ frame: ByteBuffer) {
        guard let rest = sendDirect(frame) else { return }
        toNIO(rest, flush: false)
    }

    func flush() {
        if withNIO > 0 { context?.flush() }
    }

    /// Hands NIO the rest of a frame the publisher began, if it left one.
    func writePublishersRest() {
        guard let rest = lane.takeRest() else { return }
        toNIO(rest, flush: true)
    }

    /// Sends `frame` to the kernel when allowed; returns what is left for NIO (nil: all sent).
    /// Whatever the publisher left unfinished goes to NIO first.
    private func sendDirect(_ frame: ByteBuffer) -> ByteBuffer? {
        guard hasSocket else { return frame }
        let (rest, outcome) = lane.write(frame, direct: isDirect)
        if let rest { toNIO(rest, flush: false) }
        switch outcome {
        case nil:
            return frame
        case .sent:
            return nil
        case .partial(let count):
            var rest = frame
            rest.moveReaderIndex(forwardBy: count)
            return rest
        case .failed:
            // NIO gets the whole frame and, with it, the error and the close.
            return frame
        }
    }

    @discardableResult
    private func toNIO(_ frame: ByteBuffer, flush: Bool) -> EventLoopFuture<Void>? {
        guard let context else { return nil }
        // The publisher may not write past bytes that wait in NIO.
        if withNIO == 0 && hasSocket { lane.update(mayOpen: false) }
        withNIO += 1
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            withNIO -= 1
            if case .success = result { primed = true }
            if withNIO == 0 { updateLane() }
        }
        if flush {
            context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
        } else {
            context.write(wrapOutboundOut(frame), promise: promise)
        }
        return promise.futureResult
    }
}
