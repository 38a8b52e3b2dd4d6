import CoreMetrics
import NIOCore
import NIOWebSocket
import Synchronization

/// One client's end of the hub, living in its WebSocket channel's pipeline (just behind the
/// frame encoder) and touched only on the channel's event loop.
///
/// The hub hands each broadcast to every client of an event loop inside one
/// `eventLoop.execute`; ``deliver(_:nowMs:)`` then writes the shared buffer straight to the
/// socket, with no task, actor or async writer in between. When the socket stops taking data
/// (NIO writability: the bytes waiting to be written passed the high water mark) the message
/// waits in a bounded ``ClientOutbox`` instead; when the socket drains, the client is told how
/// many it missed and gets the rest. A client that keeps dropping for the grace period is
/// disconnected.
///
/// Frames the session writes itself (replies, pings, the close frame) pass through here on
/// their way to the encoder; after a close frame no broadcast is written.
final class ClientOutlet: ChannelDuplexHandler, RemovableChannelHandler {
    /// Not read: inbound bytes pass through untouched to the frame decoder.
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var context: ChannelHandlerContext?
    private var outbox: ClientOutbox<SharedMessage>
    private var batch: [SharedMessage] = []
    private let kind: ClientKind
    private let tally: ClientTally
    private let metrics: ServerMetrics

    private init(kind: ClientKind, capacity: Int, overBudgetGraceMs: Int64, tally: ClientTally, metrics: ServerMetrics) {
        self.kind = kind
        self.outbox = ClientOutbox(capacity: capacity, overBudgetGraceMs: overBudgetGraceMs)
        self.tally = tally
        self.metrics = metrics
    }

    /// Adds an outlet behind the WebSocket frame encoder of an upgraded `channel` and turns
    /// Nagle off there (results are small and must leave at once).
    static func install(
        on channel: any Channel, kind: ClientKind, capacity: Int, overBudgetGraceMs: Int64,
        tally: ClientTally, metrics: ServerMetrics
    ) async throws -> NIOLoopBound<ClientOutlet> {
        try await channel.eventLoop.submit {
            let outlet = ClientOutlet(kind: kind, capacity: capacity, overBudgetGraceMs: overBudgetGraceMs,
                                      tally: tally, metrics: metrics)
            let pipeline = channel.pipeline.syncOperations
            let encoder = try pipeline.context(handlerType: WebSocketFrameEncoder.self)
            try pipeline.addHandler(outlet, position: .after(encoder.handler))
            try? channel.syncOptions?.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            return NIOLoopBound(outlet, eventLoop: channel.eventLoop)
        }.get()
    }

    // MARK: Broadcasts (on the event loop)

    /// Offers one broadcast; true when it was written to the socket now.
    func deliver(_ message: SharedMessage, nowMs: Int64) -> Bool {
        guard let context else { return false }
        switch outbox.offer(message, writable: context.channel.isWritable, nowMs: nowMs) {
        case .write:
            context.writeAndFlush(wrapOutboundOut(Self.frame(message.buffer(for: kind))), promise: nil)
            return true
        case .queued, .closed:
            return false
        case .droppedOldest:
            _ = tally.dropped.add(1, ordering: .relaxed)
            return false
        case .overBudget:
            _ = tally.dropped.add(1, ordering: .relaxed)
            metrics.clientsDisconnectedSlow.increment()
            context.close(promise: nil)
            return false
        }
    }

    /// Writes `hello`, then whatever was broadcast since the client registered, and lets
    /// broadcasts flow.
    func open(hello: String) {
        guard let context, outbox.open() else { return }
        context.write(wrapOutboundOut(Self.frame(context.channel.allocator.buffer(string: hello))), promise: nil)
        writeWaiting(context)
        context.flush()
    }

    /// Stops broadcasts to this client.
    func close() {
        outbox.close()
    }

    private func writeWaiting(_ context: ChannelHandlerContext) {
        guard let missed = outbox.drain(into: &batch) else { return }
        if missed > 0 {
            metrics.messagesDropped.increment(by: missed)
            let notice = WireText.text(kind, event: "missed",
                dataJSON: "{\"count\":\(missed),\"message\":\"you fell behind: \(missed) messages were dropped\"}")
            context.write(wrapOutboundOut(Self.frame(context.channel.allocator.buffer(string: notice))), promise: nil)
        }
        for message in batch {
            context.write(wrapOutboundOut(Self.frame(message.buffer(for: kind))), promise: nil)
        }
        metrics.messagesSent.increment(by: batch.count)
        batch.removeAll(keepingCapacity: true)
    }

    private static func frame(_ text: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: text)
    }

    // MARK: ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        outbox.close()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        outbox.close()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            writeWaiting(context)
            context.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if unwrapOutboundIn(data).opcode == .connectionClose { outbox.close() }
        context.write(data, promise: promise)
    }
}

/// What the hub reads about a client from any thread.
final class ClientTally: Sendable {
    /// Messages dropped over the client's life.
    let dropped = Atomic<Int>(0)
    init() {}
}
