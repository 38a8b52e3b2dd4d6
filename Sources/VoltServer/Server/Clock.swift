#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Milliseconds from the two clocks the server needs: monotonic for budgets and timeouts,
/// wall-clock for timestamps clients see.
enum Clock {
    static func monotonicMs() -> Int64 { read(CLOCK_MONOTONIC) }
    static func epochMs() -> Int64 { read(CLOCK_REALTIME) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
