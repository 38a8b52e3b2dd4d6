import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
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
        welcome()
        sendText(helloText(joined.helloJSON))
        _ = outbox.open()
        return true
    }

    /// Offers one broadcast (``BroadcastReceiver``); true when it was written to the socket now.
    func receive(_ broadcast: Broadcast, nowMs: Int64) -> Bool {
        guard broadcast.sequence > coveredThrough, let context else { return false }
        // The outbox decides; acting comes after, since cutting off closes the channel and NIO
        // calls back into `finish()` (which closes the outbox) before `close` returns.
        let delivery = outbox.offer(broadcast, writable: writable, nowMs: nowMs)
        return delivery.settle(tally: tally, metrics: hub.metrics) {
            encodedFrames.write(broadcast.frame(for: kind))
            encodedFrames.flush()
        } cutOff: {
            logger.info("client fell behind for too long: disconnecting it")
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            writeWaiting(context)
        }
        context.fireChannelWritabilityChanged()
    }

    /// The socket drained: the client is told how many messages it missed, then gets what waits.
    func writeWaiting(_ context: ChannelHandlerContext) {
        guard let missed = outbox.drain(into: &batch) else { return }
        if missed > 0 {
            hub.metrics.messagesDropped.increment(by: missed)
            let notice = WireText.text(kind, event: "missed",
                dataJSON: "{\"count\":\(missed),\"message\":\"you fell behind: \(missed) messages were dropped\"}")
            encodedFrames.write(EncodedFrame.text(notice))
        }
        // After an upgrade, what the polling session already took is not sent twice.
        for message in batch where message.sequence > coveredThrough {
            encodedFrames.write(message.frame(for: kind))
        }
        hub.metrics.messagesSent.increment(by: batch.count)
        batch.removeAll(keepingCapacity: true)
        encodedFrames.flush()
    }
}
