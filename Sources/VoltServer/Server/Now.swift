import FoundationEssentials
import NIOCore

/// The time in milliseconds from the two clocks the server reads: monotonic for budgets and
/// timeouts, wall-clock for timestamps clients see.
enum Now {
    /// Monotonic milliseconds (any origin): only differences mean something.
    static var monotonicMs: Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }
    /// Milliseconds since the Unix epoch.
    static var epochMs: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
