import CUdev

/// A libudev netlink monitor for tty devices: tells us at once when a board is plugged in or
/// pulled out, instead of polling.
///
/// Listens to the "udev" source (events after udev processed them, with by-id links made).
/// Where no udev daemon runs (containers) nothing ever arrives; ``DiscoveryService`` then
/// polls as well.
public final class UdevMonitor {
    public enum Action: String, Sendable { case add, remove, change, other }

    public struct Event: Sendable, Equatable {
        public var action: Action
        public var sysPath: String
        public var path: String?
    }

    private let udev: Udev
    private let monitor: OpaquePointer
    /// The netlink socket; poll it for readability.
    public let fd: Int32

    public init(udev: Udev) throws(DiscoveryError) {
        guard let monitor = udev_monitor_new_from_netlink(udev.handle, "udev") else {
            throw DiscoveryError("cannot listen for udev events (netlink unavailable)")
        }
        udev_monitor_filter_add_match_subsystem_devtype(monitor, "tty", nil)
        guard udev_monitor_enable_receiving(monitor) == 0 else {
            udev_monitor_unref(monitor)
            throw DiscoveryError("cannot listen for udev events (netlink bind failed)")
        }
        self.udev = udev
        self.monitor = monitor
        self.fd = udev_monitor_get_fd(monitor)
    }

    deinit { udev_monitor_unref(monitor) }

    /// The next queued event, or nil when none is waiting (the socket is non-blocking).
    public func receive() -> Event? {
        guard let device = udev_monitor_receive_device(monitor) else { return nil }
        defer { udev_device_unref(device) }
        let action = udev_device_get_action(device).map(String.init(cString:)) ?? ""
        return Event(
            action: Action(rawValue: action) ?? .other,
            sysPath: udev_device_get_syspath(device).map(String.init(cString:)) ?? "",
            path: udev_device_get_devnode(device).map(String.init(cString:))
        )
    }
}
