#if canImport(Glibc)
import Glibc
#endif
import CVoltRing

/// Sends one broadcast to many sockets: in one system call through io_uring where the kernel
/// allows it, otherwise one `send(2)` each. Every send behaves as `send` with `MSG_NOSIGNAL |
/// MSG_DONTWAIT` would, in both cases: it never waits for a client, and a full socket takes
/// part of a frame or nothing.
///
/// Why: at a thousand clients the fan-out is a thousand system calls per broadcast, and each
/// entry into the kernel pays the CPU's speculation mitigations. Submitting the loop's sends
/// in one call brought the median broadcast's last client 0.5–0.9 ms sooner in the C floor
/// (docs/server.md). swift-system's `IORing` has no send with flags, so a small C target
/// (`CVoltRing`) drives the ring: one per thread, made on first use.
///
/// Set `VOLTWATCH_IO_URING=0` to use plain sends (for diagnosis, or where io_uring misbehaves);
/// where io_uring is unavailable (old kernel, a container's seccomp profile,
/// `kernel.io_uring_disabled`) plain sends are used without being asked.
enum SendBatch {
    /// Fewer sockets than this go one `send` each: a ring's call costs about as much as a send.
    static let minimumForRing = 4

    /// Whether batches may use io_uring; read once from `VOLTWATCH_IO_URING`.
    static let ringAllowed: Bool = {
        guard let value = getenv("VOLTWATCH_IO_URING") else { return true }
        let allowed = String(cString: value) != "0"
        if !allowed { cvoltring_set_enabled(0) }
        return allowed
    }()

    /// Turns io_uring off or back on for the whole process (tests compare both ways).
    static func setRing(enabled: Bool) {
        cvoltring_set_enabled(enabled && ringAllowed ? 1 : 0)
    }

    /// Whether the calling thread sends batches through io_uring.
    static var usesRing: Bool { ringAllowed && cvoltring_available() != 0 }

    /// `send(2)` with `MSG_NOSIGNAL | MSG_DONTWAIT`, retried on EINTR: the bytes the kernel
    /// took, or -errno.
    static func sendOne(_ descriptor: Int32, _ base: UnsafeRawPointer?, _ count: Int) -> Int {
        while true {
            let sent = Glibc.send(descriptor, base, count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if sent >= 0 { return sent }
            let code = errno
            if code != EINTR { return -Int(code) }
        }
    }

    /// Sends `lengths[i]` bytes at `buffers[i]` to `descriptors[i]` for each `i`; returns, for
    /// each, what ``sendOne(_:_:_:)`` would have.
    static func send(_ descriptors: [Int32], buffers: [UnsafeRawPointer?], lengths: [UInt32]) -> [Int] {
        let count = descriptors.count
        if count >= minimumForRing && ringAllowed {
            var results = [Int32](repeating: 0, count: count)
            let used = descriptors.withUnsafeBufferPointer { fds in
                buffers.withUnsafeBufferPointer { bufs in
                    lengths.withUnsafeBufferPointer { lens in
                        results.withUnsafeMutableBufferPointer { out in
                            cvoltring_send_batch(fds.baseAddress, bufs.baseAddress, lens.baseAddress, Int32(count),
                                                 out.baseAddress)
                        }
                    }
                }
            }
            if used == 0 { return results.map { Int($0) } }
        }
        return (0..<count).map { sendOne(descriptors[$0], buffers[$0], Int(lengths[$0])) }
    }
}
