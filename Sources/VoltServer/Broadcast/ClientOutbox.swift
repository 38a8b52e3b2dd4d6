import CoreMetrics
import Synchronization

/// One client's delivery rules, as a pure value: whether a broadcast goes straight to the socket,
/// waits in the bounded queue, or disconnects the client.
///
/// The channel handler that owns it (``ClientConnection``) feeds it the socket's writability; keeping
/// the rules here lets them be tested without a socket. A message is written at once while the
/// socket takes data and nothing waits; otherwise it waits in a ``ClientQueue`` that drops the
/// oldest message when full, and a client that keeps dropping for `overBudgetGraceMs` is over
/// its budget.
struct ClientOutbox<Message: Sendable>: Sendable {
    enum Phase: Sendable, Equatable {
        /// Registered with the hub, but its `hello` is not written yet: broadcasts wait.
        case pending
        /// Broadcasts flow.
        case open
        /// Closing or closed: broadcasts are ignored.
        case closed
    }

    /// What to do with an offered message.
    enum Delivery: Sendable, Equatable {
        /// Write it now.
        case write
        /// It waits in the queue.
        case queued
        /// It waits in the queue, which was full: the oldest message was dropped.
        case droppedOldest
        /// It was queued, dropping the oldest, and the client has been dropping messages for
        /// too long: disconnect it.
        case overBudget
        /// The client is gone; ignore it.
        case closed
    }

    private(set) var phase = Phase.pending
    private var queue: ClientQueue<Message>
    private let overBudgetGraceMs: Int64

    init(capacity: Int, overBudgetGraceMs: Int64) {
        queue = ClientQueue(capacity: capacity)
        self.overBudgetGraceMs = overBudgetGraceMs
    }

    /// Messages dropped over the client's life.
    var totalDropped: Int { queue.totalDropped }

    /// Messages dropped that the client was never told of (by a `missed` event when its
    /// socket drained), kept through ``close()``.
    private var unannounced = 0

    /// Returns the messages dropped that the client was never told of, and forgets them, so
    /// they are counted once when the client goes.
    mutating func takeUnannouncedDrops() -> Int {
        defer { unannounced = 0 }
        return unannounced + queue.missed
    }

    /// A broadcast for this client; `writable` is the socket's writability right now.
    mutating func offer(_ message: Message, writable: Bool, nowMs: Int64) -> Delivery {
        switch phase {
        case .closed:
            return .closed
        case .open where flows(writable: writable):
            return .write
        case .open, .pending:
            guard queue.push(message, nowMs: nowMs) == .droppedOldest else { return .queued }
            if queue.isOverBudget(nowMs: nowMs, graceMs: overBudgetGraceMs) {
                close()
                return .overBudget
            }
            return .droppedOldest
        }
    }

    /// Whether a broadcast offered now would be written at once: open, the socket takes data,
    /// and nothing waits (nor was dropped unannounced).
    func flows(writable: Bool) -> Bool {
        phase == .open && writable && queue.isEmpty && queue.missed == 0
    }

    /// Lets broadcasts flow (after `hello`). False unless the outbox was pending.
    mutating func open() -> Bool {
        guard phase == .pending else { return false }
        phase = .open
        return true
    }

    /// When open and something waits: moves the waiting messages, oldest first, into `batch`
    /// and returns how many were dropped since the last drain (the client is told). Nil when
    /// there is nothing to write.
    mutating func drain(into batch: inout [Message]) -> Int? {
        guard phase == .open, !queue.isEmpty || queue.missed > 0 else { return nil }
        return queue.drain(into: &batch)
    }

    /// No more broadcasts (close frame sent, channel gone, or disconnected).
    mutating func close() {
        phase = .closed
        var discarded: [Message] = []
        unannounced += queue.drain(into: &discarded)
    }
}

extension ClientOutbox.Delivery {
    /// Acts on the outcome of ``ClientOutbox/offer(_:writable:nowMs:)``, the same for every
    /// kind of client (a WebSocket connection, a polling session): `write` the message now,
    /// count a drop, or count the client as too slow and `cutOff` it. Returns true when it was
    /// written now.
    ///
    /// A method of the outcome, not a mutating method of the outbox: `cutOff` closes the
    /// channel, and NIO runs `channelInactive` (which closes the outbox) before `close`
    /// returns, so acting inside the outbox's own modification would be an overlapping access.
    func settle(tally: ClientTally, metrics: ServerMetrics, write: () -> Void, cutOff: () -> Void) -> Bool {
        switch self {
        case .write:
            write()
            return true
        case .queued, .closed:
            return false
        case .droppedOldest:
            tally.dropped.wrappingAdd(1, ordering: .relaxed)
            return false
        case .overBudget:
            tally.dropped.wrappingAdd(1, ordering: .relaxed)
            metrics.clientsDisconnectedSlow.increment()
            cutOff()
            return false
        }
    }
}
