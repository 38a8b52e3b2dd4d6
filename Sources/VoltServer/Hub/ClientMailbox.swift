import Synchronization

/// The hand-off between the hub (which must never wait) and one client's writer task (which
/// waits on the client's socket).
///
/// ``offer(_:nowMs:)`` takes a lock for a few hundred nanoseconds and returns; a writer blocked on
/// a client that stopped reading costs the publisher nothing. The queue inside is a
/// ``ClientQueue``, so a slow client's memory stays bounded.
final class ClientMailbox: Sendable {
    /// What the hub should do after offering a message.
    enum OfferResult: Sendable, Equatable {
        case accepted
        /// Queued, but the client dropped messages for too long: disconnect it.
        case overBudget
        /// The client is gone.
        case closed
    }

    private struct State: Sendable {
        var queue: ClientQueue<SharedMessage>
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state: Mutex<State>
    private let overBudgetGraceMs: Int64

    init(capacity: Int, overBudgetGraceMs: Int64) {
        self.state = Mutex(State(queue: ClientQueue(capacity: capacity)))
        self.overBudgetGraceMs = overBudgetGraceMs
    }

    /// Queues a message without ever waiting.
    func offer(_ message: SharedMessage, nowMs: Int64) -> OfferResult {
        let (waiter, result) = state.withLock { state -> (CheckedContinuation<Void, Never>?, OfferResult) in
            if state.closed { return (nil, .closed) }
            _ = state.queue.push(message, nowMs: nowMs)
            let waiter = state.waiter
            state.waiter = nil
            let over = state.queue.isOverBudget(nowMs: nowMs, graceMs: overBudgetGraceMs)
            return (waiter, over ? .overBudget : .accepted)
        }
        waiter?.resume()
        return result
    }

    /// Waits for messages and moves them into `batch`; returns how many were dropped since the
    /// last call, or nil once the mailbox is closed (or the task cancelled) and empty.
    func next(into batch: inout [SharedMessage]) async -> Int? {
        while true {
            enum Step { case got(Int), finished, wait }
            let step: Step = state.withLock { state in
                if !state.queue.isEmpty || state.queue.missed > 0 {
                    return .got(state.queue.drain(into: &batch))
                }
                return state.closed ? .finished : .wait
            }
            switch step {
            case .got(let missed): return missed
            case .finished: return nil
            case .wait: break
            }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.closed || !state.queue.isEmpty { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                close()
            }
        }
    }

    /// Stops accepting messages and wakes the writer so it can finish.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Messages dropped over the client's life.
    var totalDropped: Int { state.withLock { $0.queue.totalDropped } }
}
