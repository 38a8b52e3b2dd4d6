import CVoltSched
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Where the server's event loops run.
///
/// Pinned (the default), the server gets a loop per CPU it may use, each bound to its CPU.
/// A broadcast at a thousand clients is a few milliseconds of `send` calls on every loop at
/// once; unpinned, the kernel often wakes two loops onto one CPU, or wakes a loop where it
/// preempts the publisher before the others are woken, and half the clients wait for the other
/// half. Pinned, each loop has a CPU of its own and the hub knows which one, so it wakes the
/// loops elsewhere first (``LoopSlot``).
enum EventLoopPlacement {
    /// The event loop group to serve on, whether the server owns it (and shuts it down), and,
    /// when pinning was asked for but is not allowed here, why (for the operator's log).
    /// NIO's shared group when pinning is off, not allowed, or there is only one CPU to use.
    static func group(pinned: Bool) -> (group: any EventLoopGroup, owned: Bool, notPinned: String?) {
        #if os(Linux)
        let cpus = allowedCPUs()
        if pinned, cpus.count > 1 {
            // NIO traps if a loop thread cannot set its affinity, so ask the kernel first:
            // a seccomp filter (systemd's `SystemCallFilter=~@resources`, a container profile)
            // refuses sched_setaffinity whatever the mask.
            let refused = cvoltsched_affinity_settable()
            guard refused == 0 else {
                let reason = "sched_setaffinity is refused (\(String(cString: strerror(refused)))), "
                    + "as under a seccomp filter such as systemd's SystemCallFilter=~@resources; "
                    + "serving on unpinned event loops, which the kernel places, at some cost in "
                    + "latency with many clients. Allow sched_setaffinity to pin them, or pass "
                    + "--no-pin-event-loops to say unpinned is meant."
                return (MultiThreadedEventLoopGroup.singleton, false, reason)
            }
            return (MultiThreadedEventLoopGroup(pinnedCPUIDs: cpus), true, nil)
        }
        #endif
        return (MultiThreadedEventLoopGroup.singleton, false, nil)
    }

    /// The CPUs this process may run on (its affinity mask, which cgroup cpusets and
    /// systemd's `CPUAffinity=` narrow), lowest first; empty where unknown.
    static func allowedCPUs() -> [Int] {
        var ids = [Int32](repeating: 0, count: 1024)
        let count = Int(cvoltsched_allowed_cpus(&ids, Int32(ids.count)))
        guard count > 0 else { return [] }
        return ids.prefix(min(count, ids.count)).map(Int.init)
    }
}
