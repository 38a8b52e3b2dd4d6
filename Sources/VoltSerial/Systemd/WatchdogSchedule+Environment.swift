#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension WatchdogSchedule {
    /// The schedule systemd asked for (`WatchdogSec=` sets `$WATCHDOG_USEC` and
    /// `$WATCHDOG_PID`), or nil when it did not.
    public static func fromEnvironment() -> WatchdogSchedule? {
        parse(usec: getenv("WATCHDOG_USEC").map { String(cString: $0) },
              pid: getenv("WATCHDOG_PID").map { String(cString: $0) },
              ownPID: getpid())
    }
}
