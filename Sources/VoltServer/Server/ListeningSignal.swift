import Synchronization

/// Fires once, when the server has bound its port and accepts connections; until then,
/// ``wait()`` suspends. Readiness (systemd's READY=1) waits on it rather than probing the
/// port, which another program already listening there would also answer.
final class ListeningSignal: Sendable {
    private struct State {
        var fired = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state = Mutex(State())

    /// Marks the server as listening and wakes every waiter. Later calls do nothing.
    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``fire()`` has been called; throws `CancellationError` if the waiting task
    /// is cancelled first (shutdown before the server came up).
    func wait() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case ready, cancelled, waiting }
                let outcome = state.withLock { state -> Outcome in
                    if state.fired { return .ready }
                    // Cancelled before we registered: the handler below found nothing to resume.
                    if Task.isCancelled { return .cancelled }
                    state.waiters[id] = continuation
                    return .waiting
                }
                switch outcome {
                case .ready: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
