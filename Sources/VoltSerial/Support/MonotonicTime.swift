/// The monotonic clock the readers use, for the agent's own loops (watchdog, status), so
/// heartbeat ages are measured on the clock the heartbeats were stamped with.
public enum MonotonicTime {
    /// `CLOCK_MONOTONIC`, milliseconds.
    public static func milliseconds() -> Int64 { Posix.monotonicMilliseconds() }
}
