import CoreMetrics

/// The clients one event loop serves. Touched only on that loop (the hub holds it in a
/// `NIOLoopBound`), so joining, leaving and a broadcast need no lock: the hub hands a
/// broadcast to the loop once, and the roster offers it to each connection in turn.
final class LoopRoster {
    private var members: [ClientConnection] = []
    /// Each member by its lane, for what the publisher left in a lane.
    private var byLane: [ObjectIdentifier: ClientConnection] = [:]
    private let sent: Counter

    init(sent: Counter) {
        self.sent = sent
    }

    func add(_ connection: ClientConnection) {
        members.append(connection)
        byLane[ObjectIdentifier(connection.writer.lane)] = connection
    }

    func remove(_ connection: ClientConnection) {
        if let index = members.lastIndex(where: { $0 === connection }) {
            members.remove(at: index)
        }
        byLane[ObjectIdentifier(connection.writer.lane)] = nil
    }

    /// Offers one broadcast to every member; counts those it was written to at once.
    func deliver(_ message: SharedMessage) {
        let now = Clock.monotonicMs()
        var written = 0
        for member in members where member.deliver(message, nowMs: now) {
            written += 1
        }
        if written > 0 { sent.increment(by: written) }
    }

    /// Delivers what the publisher left in `lanes` (members that left since are skipped).
    func deliverLeftovers(_ lanes: [ExpressLane]) {
        let now = Clock.monotonicMs()
        var written = 0
        for lane in lanes {
            written += byLane[ObjectIdentifier(lane)]?.deliverLeftovers(nowMs: now) ?? 0
        }
        if written > 0 { sent.increment(by: written) }
    }
}
