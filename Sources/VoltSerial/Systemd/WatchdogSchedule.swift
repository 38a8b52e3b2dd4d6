/// When to send `WATCHDOG=1`, from `$WATCHDOG_USEC` (and `$WATCHDOG_PID`): at half the
/// interval, as `sd_watchdog_enabled(3)` advises, so one late ping does not get the service
/// killed.
///
/// A ping is more than a timer: it is sent only while every working loop (serial readers,
/// udev monitor) has reported in recently (``LoopHeartbeats``), so a hung reader stops the
/// pings and systemd restarts the service.
public struct WatchdogSchedule: Sendable, Equatable {
    /// systemd's watchdog timeout, microseconds.
    public var timeoutUsec: UInt64

    /// nil when the watchdog is off: the variable unset, zero or unparsable, or
    /// `$WATCHDOG_PID` naming another process (the variables were inherited, not meant for us).
    public static func parse(usec: String?, pid: String?, ownPID: Int32) -> WatchdogSchedule? {
        guard let usec, let value = UInt64(usec), value > 0 else { return nil }
        if let pid, !pid.isEmpty, Int32(pid) != ownPID { return nil }
        return WatchdogSchedule(timeoutUsec: value)
    }

    /// Time between pings, milliseconds: half the timeout, at least 1.
    public var pingIntervalMs: Int64 { max(1, Int64(timeoutUsec / 2_000)) }

    /// A loop that has not reported for this long counts as hung, milliseconds: the ping
    /// interval, but never less than three of the loops' own ticks (they report about once
    /// per ``LoopHeartbeats/tickMs``), so a busy moment is not mistaken for a hang.
    public var staleAfterMs: Int64 { max(pingIntervalMs, 3 * Int64(LoopHeartbeats.tickMs)) }
}
