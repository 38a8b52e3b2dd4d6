#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims

/// An eventfd another thread (or a cancellation handler) can signal to wake a thread blocked
/// in `poll`. Blocking readers live on dedicated threads, and this is how shutdown, discovery
/// changes and tests reach them without busy waiting.
final class Wakeup: Sendable {
    let fd: Int32

    init() {
        fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(fd >= 0, "eventfd failed: \(Posix.describe(errno))")
    }

    deinit { close(fd) }

    /// Wakes the waiter; several signals before it wakes count as one.
    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(fd, $0.baseAddress, 8) }
    }

    /// Clears pending signals.
    func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, 8) }
    }

    /// Waits up to `milliseconds` (-1: forever) for a signal. Returns true when signalled.
    @discardableResult
    func wait(milliseconds: Int) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 1, Int32(clamping: milliseconds))
            if n < 0 && errno == EINTR { continue }
            if n > 0 {
                drain()
                return true
            }
            return false
        }
    }
}
