import FoundationEssentials
import NIOCore

/// Milliseconds from the two clocks the server needs: monotonic for budgets and timeouts,
/// wall-clock for timestamps clients see.
enum Clock {
    static func monotonicMs() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }
    static func epochMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
