import Synchronization

/// How many uploads are scored at once (`POST /api/replay`). Each holds a body chunk, an
/// output chunk and a scorer, and takes a core while it scores: a gateway has two to four
/// cores and the live stream comes first, so the rest are refused (503) until one finishes.
final class UploadGate: Sendable {
    let limit: Int
    private let inProgress = Mutex(0)

    init(limit: Int) {
        self.limit = max(limit, 1)
    }

    /// A place, or nil when all are taken. The place is given back when the ticket goes, so
    /// an answer that is dropped unsent (the client hung up) cannot keep it.
    func enter() -> Ticket? {
        let entered = inProgress.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        return entered ? Ticket(gate: self) : nil
    }

    /// One upload's place in the gate.
    final class Ticket: Sendable {
        private let gate: UploadGate
        fileprivate init(gate: UploadGate) { self.gate = gate }
        deinit { gate.inProgress.withLock { $0 = max($0 - 1, 0) } }
    }

    var current: Int { inProgress.withLock { $0 } }
}
