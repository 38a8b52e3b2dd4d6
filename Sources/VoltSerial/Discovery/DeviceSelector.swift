/// Decides which discovered devices the agent reads: pure, so it is tested without udev.
///
/// Without filters, every known board or bridge (``KnownBoards``) is picked. With filters,
/// a device is picked when any filter matches it, known or not: the user said so.
public struct DeviceSelector: Sendable, Equatable {
    public var filters: [DeviceFilter]

    public init(filters: [DeviceFilter] = []) { self.filters = filters }

    /// Filters naming paths: read directly, whether udev sees them or not.
    public var paths: [String] {
        filters.compactMap { if case .path(let p) = $0 { p } else { nil } }
    }

    /// Filters udev has to answer (USB ids and serial numbers).
    var udevFilters: [DeviceFilter] {
        filters.filter { if case .path = $0 { false } else { true } }
    }

    /// Whether discovery should look for boards at all: yes unless every filter is a path.
    public var usesDiscovery: Bool { filters.isEmpty || !udevFilters.isEmpty }

    /// Whether `device` is picked, and why (for `voltwatch devices`).
    public func verdict(_ device: DeviceInfo, resolvedPaths: [String: String] = [:]) -> (picked: Bool, reason: String) {
        if filters.isEmpty {
            if let known = KnownBoards.lookup(vendorID: device.vendorID, productID: device.productID) {
                return (true, "known board: \(known.name)")
            }
            return (false, "unknown USB id; choose it with --device \(device.vidPid ?? device.path)")
        }
        for filter in filters {
            switch filter {
            case .path(let path):
                let target = resolvedPaths[path] ?? path
                if path == device.path || target == device.path || device.byID.contains(path) || device.byPath.contains(path) {
                    return (true, "--device \(path)")
                }
            case .usbID(let vendor, let product):
                if device.vendorID == vendor && (product == nil || device.productID == product) {
                    return (true, "--device \(filter)")
                }
            case .serial(let serial):
                if device.serial == serial { return (true, "--device \(filter)") }
            }
        }
        return (false, "not matched by --device")
    }

    /// Devices that discovery sessions read: picked, and not already read through a path filter.
    public func discovered(_ devices: [DeviceInfo]) -> [DeviceInfo] {
        guard usesDiscovery else { return [] }
        let selector = DeviceSelector(filters: udevFilters)
        return devices.filter { selector.verdict($0).picked }
    }
}
