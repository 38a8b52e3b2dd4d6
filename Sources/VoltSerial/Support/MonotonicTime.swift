#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one monotonic clock of the agent: `CLOCK_MONOTONIC`, which never jumps with NTP.
///
/// Every timeout, pace, heartbeat and watchdog in VoltSerial, VoltAgent and voltwatch reads
/// this, so a heartbeat's age is measured on the clock it was stamped with. It is
/// `CLOCK_MONOTONIC` rather than the standard library's `ContinuousClock` because systemd
/// compares `MONOTONIC_USEC=` (sent with `RELOADING=1`) against its own `CLOCK_MONOTONIC`,
/// and `ContinuousClock` on Linux reads `CLOCK_BOOTTIME`, which also counts suspended time.
public enum MonotonicTime {
    /// Now, milliseconds: timeouts, pacing, heartbeats.
    public static func milliseconds() -> Int64 { nanoseconds() / 1_000_000 }

    /// Now, microseconds: systemd's `MONOTONIC_USEC=`.
    public static func microseconds() -> UInt64 { UInt64(nanoseconds() / 1_000) }

    /// Now, nanoseconds: timing work (the scorer's histogram).
    @inline(__always)
    public static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
