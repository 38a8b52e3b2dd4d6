import CoreMetrics
import Synchronization

/// How the store is doing, for `/api/status`, `/metrics`, the log and `systemctl status`: a
/// store that cannot be written is reported with the reason and what to do, while the agent
/// keeps serving live data and retries.
public final class HistoryHealth: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public enum State: String, Sendable { case ok, failing }
        public var state: State = .ok
        public var path: String
        /// The last failure's message, with the fix when one is known.
        public var error: String?
        public var failingSinceMs: Int64?
        public var lastWriteMs: Int64?
        public var writes = 0
        public var failures = 0
        /// Buckets waiting for the store (kept in memory, bounded).
        public var pendingRows = 0
        /// Buckets dropped because the store stayed unwritable too long.
        public var droppedRows = 0
    }

    private let state: Mutex<Snapshot>
    /// The same figures on `/metrics` (the process-wide metrics system; no-ops in tests that
    /// bootstrap none), so an alert rule can watch the store.
    private let healthy = Gauge(label: "voltwatch_history_ok")
    private let pending = Gauge(label: "voltwatch_history_pending_rows")
    private let writes = Counter(label: "voltwatch_history_writes_total")
    private let failures = Counter(label: "voltwatch_history_write_failures_total")
    private let dropped = Counter(label: "voltwatch_history_dropped_rows_total")

    init(path: String) {
        state = Mutex(Snapshot(path: path))
        healthy.record(1)
        pending.record(0)
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    func wrote(atMs: Int64, pending: Int) {
        state.withLock {
            $0.state = .ok
            $0.error = nil
            $0.failingSinceMs = nil
            $0.lastWriteMs = atMs
            $0.writes += 1
            $0.pendingRows = pending
        }
        healthy.record(1)
        self.pending.record(pending)
        writes.increment()
    }

    /// Returns true when this is the first failure after a success (worth a log line).
    func failed(_ message: String, atMs: Int64, pending: Int, dropped: Int) -> Bool {
        recordFailure(pending: pending, dropped: dropped)
        return state.withLock {
            let first = $0.state == .ok
            $0.state = .failing
            $0.error = message
            if first { $0.failingSinceMs = atMs }
            $0.failures += 1
            $0.pendingRows = pending
            $0.droppedRows += dropped
            return first
        }
    }

    /// Mirrors a failure on `/metrics` (called with ``failed(_:atMs:pending:dropped:)``'s figures).
    func recordFailure(pending: Int, dropped: Int) {
        healthy.record(0)
        self.pending.record(pending)
        failures.increment()
        if dropped > 0 { self.dropped.increment(by: dropped) }
    }
}
