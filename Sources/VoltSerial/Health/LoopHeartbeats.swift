import Synchronization

/// Proof of life from the agent's working loops (each serial reader, the udev monitor), for
/// the systemd watchdog: a loop that stops reporting (stuck in a read, deadlocked in a sink)
/// holds back `WATCHDOG=1`, and systemd restarts the service.
///
/// Each loop reports at least every ``tickMs`` while healthy, whether data flows or not; its
/// report is one atomic store, cheap enough for every pass of a reader's loop.
public final class LoopHeartbeats: Sendable {
    /// How often a healthy loop reports, at the latest, milliseconds.
    public static let tickMs = 1_000

    /// One loop's last report.
    public final class Beat: Sendable {
        public let name: String
        let lastMs: Atomic<Int64>

        init(name: String, nowMs: Int64) {
            self.name = name
            self.lastMs = Atomic(nowMs)
        }

        /// "Still alive"; call from the loop itself.
        public func beat() { beat(nowMs: MonotonicTime.milliseconds()) }

        func beat(nowMs: Int64) { lastMs.store(nowMs, ordering: .relaxed) }
    }

    private let beats = Mutex<[ObjectIdentifier: Beat]>([:])

    public init() {}

    /// Starts tracking a loop (it counts as alive now).
    public func register(_ name: String) -> Beat { register(name, nowMs: MonotonicTime.milliseconds()) }

    func register(_ name: String, nowMs: Int64) -> Beat {
        let beat = Beat(name: name, nowMs: nowMs)
        beats.withLock { $0[ObjectIdentifier(beat)] = beat }
        return beat
    }

    /// Stops tracking a loop that ended on purpose (shutdown).
    public func unregister(_ beat: Beat) {
        _ = beats.withLock { $0.removeValue(forKey: ObjectIdentifier(beat)) }
    }

    /// Loops silent for longer than `staleAfterMs`, with how long, most silent first.
    public func stale(staleAfterMs: Int64) -> [(name: String, silentMs: Int64)] {
        stale(nowMs: MonotonicTime.milliseconds(), staleAfterMs: staleAfterMs)
    }

    func stale(nowMs: Int64, staleAfterMs: Int64) -> [(name: String, silentMs: Int64)] {
        let all = beats.withLock { Array($0.values) }
        return all.compactMap { beat in
            let silent = nowMs - beat.lastMs.load(ordering: .relaxed)
            return silent > staleAfterMs ? (beat.name, silent) : nil
        }.sorted { $0.silentMs > $1.silentMs }
    }

    /// When the loop named `name` last reported (``MonotonicTime`` milliseconds), if it is
    /// tracked.
    func lastBeatMs(of name: String) -> Int64? {
        beats.withLock { $0.values.first { $0.name == name } }?.lastMs.load(ordering: .relaxed)
    }

    /// How many loops report.
    public var count: Int { beats.withLock { $0.count } }
}
