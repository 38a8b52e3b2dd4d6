/// One client's bounded outbox: a ring of messages waiting to be written to its socket.
///
/// Pure value type, so the drop-oldest and over-budget rules are tested without sockets. The hub
/// pushes every broadcast; the client's writer drains whatever is waiting. When the ring is full
/// the oldest message is dropped (a phone that fell behind wants the newest readings, not a
/// backlog) and counted, so the writer can tell the client how many it missed.
public struct ClientQueue<Element: Sendable>: Sendable {
    /// What a push did.
    public enum PushOutcome: Sendable, Equatable {
        /// The message waits in the queue.
        case queued
        /// The queue was full: the oldest message was dropped to make room.
        case droppedOldest
    }

    /// Most messages kept at once.
    public let capacity: Int
    /// Grows on demand up to `capacity` and is released on drain: most clients keep up and
    /// never hold a message here, so a thousand of them should not hold a thousand full rings.
    private var ring: [Element?] = []
    private var head = 0
    public private(set) var count = 0
    /// Messages dropped since the writer last drained the queue.
    public private(set) var missed = 0
    /// Messages dropped over the client's whole life.
    public private(set) var totalDropped = 0
    /// When (milliseconds, any monotonic clock) the client started dropping messages without
    /// having caught up since; nil while it keeps up.
    public private(set) var behindSinceMs: Int64?

    public init(capacity: Int) {
        precondition(capacity > 0, "a client queue needs room for at least one message")
        self.capacity = capacity
    }

    public var isEmpty: Bool { count == 0 }

    /// Adds a message, dropping the oldest one when full. `nowMs` starts the over-budget clock.
    public mutating func push(_ element: Element, nowMs: Int64) -> PushOutcome {
        if count == capacity {
            ring[head] = element
            head = (head + 1) % ring.count
            missed += 1
            totalDropped += 1
            if behindSinceMs == nil { behindSinceMs = nowMs }
            return .droppedOldest
        }
        if count == ring.count { grow() }
        ring[(head + count) % ring.count] = element
        count += 1
        return .queued
    }

    /// Doubles the ring (at least 4, at most `capacity`), oldest message first.
    private mutating func grow() {
        let size = min(capacity, max(4, ring.count * 2))
        var bigger: [Element?] = []
        bigger.reserveCapacity(size)
        for i in 0..<count { bigger.append(ring[(head + i) % ring.count]) }
        while bigger.count < size { bigger.append(nil) }
        ring = bigger
        head = 0
    }

    /// Takes every waiting message, oldest first, and the count dropped since the last drain.
    /// Draining means the writer caught up, so the over-budget clock stops.
    public mutating func drain(into out: inout [Element]) -> Int {
        out.reserveCapacity(out.count + count)
        for i in 0..<count {
            out.append(ring[(head + i) % ring.count]!)
        }
        ring = []
        head = 0
        count = 0
        let dropped = missed
        missed = 0
        behindSinceMs = nil
        return dropped
    }

    /// True when the client has been dropping messages for at least `graceMs` without catching
    /// up: a client over its budget for that long is disconnected.
    public func isOverBudget(nowMs: Int64, graceMs: Int64) -> Bool {
        guard let since = behindSinceMs else { return false }
        return nowMs - since >= graceMs
    }
}
