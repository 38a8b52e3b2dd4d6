import CUdev

/// libudev access: enumerate tty devices with a USB parent, and read their ids.
///
/// Nothing here opens a device node: discovery must never disturb a board (opening an Uno
/// resets it) or a port another program uses.
public final class Udev {
    let handle: OpaquePointer

    /// Fails when libudev cannot start (no /sys, a very restricted container).
    public init() throws(DiscoveryError) {
        guard let handle = udev_new() else {
            throw DiscoveryError("libudev could not start (is /sys mounted?) — pass the port with --device PATH")
        }
        self.handle = handle
    }

    deinit { udev_unref(handle) }

    /// Every tty device with a USB parent, sorted by path.
    public func serialDevices() -> [DeviceInfo] {
        guard let enumerate = udev_enumerate_new(handle) else { return [] }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_subsystem(enumerate, "tty")
        udev_enumerate_scan_devices(enumerate)
        var devices: [DeviceInfo] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let name = udev_list_entry_get_name(current),
               let device = udev_device_new_from_syspath(handle, name) {
                if let info = Self.describe(device) { devices.append(info) }
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(current)
        }
        return devices.sorted { $0.path < $1.path }
    }

    /// A ``DeviceInfo`` for a tty with a USB parent; nil for anything else (ttyS0, consoles).
    static func describe(_ device: OpaquePointer) -> DeviceInfo? {
        guard let node = udev_device_get_devnode(device).map(String.init(cString:)),
              let sysPath = udev_device_get_syspath(device).map(String.init(cString:)),
              let usb = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_device")
        else { return nil }
        func attribute(_ dev: OpaquePointer, _ name: String) -> String? {
            udev_device_get_sysattr_value(dev, name).map(String.init(cString:))?.trimmingCharacters(" ")
        }
        func property(_ name: String) -> String? {
            udev_device_get_property_value(device, name).map(String.init(cString:))
        }
        var info = DeviceInfo(path: node, sysPath: sysPath)
        info.vendorID = attribute(usb, "idVendor").flatMap { UInt16($0, radix: 16) }
            ?? property("ID_VENDOR_ID").flatMap { UInt16($0, radix: 16) }
        info.productID = attribute(usb, "idProduct").flatMap { UInt16($0, radix: 16) }
            ?? property("ID_MODEL_ID").flatMap { UInt16($0, radix: 16) }
        info.serial = attribute(usb, "serial") ?? property("ID_SERIAL_SHORT")
        info.product = attribute(usb, "product") ?? property("ID_MODEL")
        info.manufacturer = attribute(usb, "manufacturer") ?? property("ID_VENDOR")
        info.topology = property("ID_PATH")
        if let interface = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_interface") {
            info.driver = udev_device_get_driver(interface).map(String.init(cString:))
        }
        info.driver = info.driver ?? property("ID_USB_DRIVER")
        var link = udev_device_get_devlinks_list_entry(device)
        while let current = link {
            if let name = udev_list_entry_get_name(current).map(String.init(cString:)) {
                if name.hasPrefix("/dev/serial/by-id/") { info.byID.append(name) }
                if name.hasPrefix("/dev/serial/by-path/") { info.byPath.append(name) }
            }
            link = udev_list_entry_get_next(current)
        }
        if info.byID.isEmpty && info.byPath.isEmpty, let links = property("DEVLINKS") {
            // Where the udev database only has the property (umockdev, some containers).
            for name in links.split(separator: " ").map(String.init) {
                if name.hasPrefix("/dev/serial/by-id/") { info.byID.append(name) }
                if name.hasPrefix("/dev/serial/by-path/") { info.byPath.append(name) }
            }
        }
        return info
    }
}

/// Discovery could not work; says what to do instead.
public struct DiscoveryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
