import CoreMetrics
import Logging
import Synchronization
import NIOCore
import VoltCore

/// The hub's side of a connection: joining, `hello`, and the broadcasts, written at once while
/// the socket takes data and otherwise kept in the bounded ``ClientOutbox``.
extension ClientConnection {
    /// Joins the hub, runs `welcome` (Socket.IO's namespace connect) and writes `hello`
    /// (built by `helloText` from the hub's `hello` data); false when the hub is full. Runs on
    /// the event loop, so no broadcast can come in between: the first one after `hello` is the
    /// first one `hello` did not cover.
    func join(welcome: () -> Void = {}, helloText: (String) -> String) -> Bool {
        guard let context, phase == .open,
              let joined = hub.register(self, kind: kind, tally: tally, on: context.eventLoop)
        else { return false }
        registration = joined.client
        coveredThrough = joined.coveredThrough
        writer.lane.setCoveredThrough(joined.coveredThrough)
        welcome()
        sendText(helloText(joined.helloJSON))
        _ = outbox.open()
        // The lane opens once NIO reports `hello` written.
        updateLane()
        return true
    }

    /// Tells the writer whether broadcasts may skip the outbox now, which opens or closes the
    /// publisher's lane (``ExpressLane``).
    func updateLane() {
        writer.broadcastsFlow = phase == .open && registration != nil && outbox.flows(writable: writable)
    }

    /// What the publisher left for this loop: the rest of a frame it began, then the
    /// broadcasts it could not write, by the usual rules. Returns how many were written now.
    func deliverLeftovers(nowMs: Int64) -> Int {
        writer.writePublishersRest()
        var written = 0
        for message in writer.lane.takeMail() where deliver(message, nowMs: nowMs) {
            written += 1
        }
        // Nothing waits in the lane now: it may open again.
        writer.updateLane()
        return written
    }

    /// Offers one broadcast; true when it was written to the socket now.
    func deliver(_ message: SharedMessage, nowMs: Int64) -> Bool {
        guard message.sequence > coveredThrough else { return false }
        switch outbox.offer(message, writable: writable, nowMs: nowMs) {
        case .write:
            writer.writeAndFlush(message.frame(for: kind))
            return true
        case .queued, .closed:
            updateLane()
            return false
        case .droppedOldest:
            tally.dropped.wrappingAdd(1, ordering: .relaxed)
            updateLane()
            return false
        case .overBudget:
            tally.dropped.wrappingAdd(1, ordering: .relaxed)
            updateLane()
            hub.metrics.clientsDisconnectedSlow.increment()
            logger.info("client fell behind for too long: disconnecting it")
            context?.close(promise: nil)
            return false
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            writeWaiting(context)
        }
        updateLane()
        context.fireChannelWritabilityChanged()
    }

    /// The socket drained: the client is told how many messages it missed, then gets what waits.
    private func writeWaiting(_ context: ChannelHandlerContext) {
        guard let missed = outbox.drain(into: &batch) else { return }
        if missed > 0 {
            hub.metrics.messagesDropped.increment(by: missed)
            let notice = WireText.text(kind, event: "missed",
                dataJSON: "{\"count\":\(missed),\"message\":\"you fell behind: \(missed) messages were dropped\"}")
            writer.write(ServerFrame.text(notice, allocator: context.channel.allocator))
        }
        for message in batch {
            writer.write(message.frame(for: kind))
        }
        hub.metrics.messagesSent.increment(by: batch.count)
        batch.removeAll(keepingCapacity: true)
        writer.flush()
    }
}
