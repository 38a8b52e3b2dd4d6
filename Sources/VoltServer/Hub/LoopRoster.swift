import CoreMetrics

/// The clients one event loop serves, by their ``ExpressLane``. Touched only on that loop (the
/// hub holds it in a `NIOLoopBound`), so joining and leaving need no lock. A broadcast goes
/// through the lanes (``LoopSlot``); what a lane could not take comes here, and the roster
/// hands it to its connection, which applies the outbox rules.
final class LoopRoster {
    private var byLane: [ObjectIdentifier: ClientConnection] = [:]
    private let sent: Counter

    init(sent: Counter) {
        self.sent = sent
    }

    func add(_ connection: ClientConnection) {
        byLane[ObjectIdentifier(connection.writer.lane)] = connection
    }

    func remove(_ connection: ClientConnection) {
        byLane[ObjectIdentifier(connection.writer.lane)] = nil
    }

    /// Delivers what was left in `lanes` (members that left since are skipped), and counts it
    /// with the `alreadySent` messages the lanes took.
    func deliverLeftovers(_ lanes: [ExpressLane], alreadySent: Int = 0) {
        let now = Clock.monotonicMs()
        var written = alreadySent
        for lane in lanes {
            written += byLane[ObjectIdentifier(lane)]?.deliverLeftovers(nowMs: now) ?? 0
        }
        if written > 0 { sent.increment(by: written) }
    }
}
