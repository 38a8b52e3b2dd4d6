import Synchronization
public import VoltCore

/// Feeds ``ServiceStatus`` from the event stream, for the `STATUS=` line. Sits in the
/// reader's fan-out, so results (every sample) return at once, untouched.
public final class StatusSink: AgentEventSink {
    private let status = Mutex(ServiceStatus())

    public init() {}

    public func publish(_ event: AgentEvent) {
        switch event {
        case .deviceStatus, .counters:
            let now = MonotonicTime.milliseconds()
            status.withLock { $0.record(event, atMs: now) }
        case .result, .episode, .hello, .configReloaded:
            return
        }
    }

    /// Sets (or clears) the note after the device part, e.g. a rejected reload.
    public func setNote(_ note: String?) { status.withLock { $0.note = note } }

    public func line(clients: Int?) -> String { status.withLock { $0.line(clients: clients) } }
}
