/// One `--device` value: how the user names the board(s) to read.
public enum DeviceFilter: Sendable, Equatable, CustomStringConvertible {
    /// A device node or a link to one (`/dev/ttyACM0`, `/dev/serial/by-id/...`, a fake
    /// device's `--link`). Read directly, udev or not.
    case path(String)
    /// `VID:PID` in hex; `PID` may be `*`.
    case usbID(vendor: UInt16, product: UInt16?)
    /// A USB serial number.
    case serial(String)

    /// Parses a `--device` value. Paths start with `/` (or `.`); `hhhh:hhhh` is a USB id;
    /// anything else is a serial number.
    public static func parse(_ text: String) throws(DeviceFilterError) -> DeviceFilter {
        let value = text.trimmingCharacters(" ")
        guard !value.isEmpty else { throw DeviceFilterError(value: text) }
        if value.hasPrefix("/") || value.hasPrefix("./") || value.hasPrefix("../") { return .path(value) }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let vendor = UInt16(parts[0], radix: 16), parts[0].count <= 4 {
            if parts[1] == "*" || parts[1].isEmpty { return .usbID(vendor: vendor, product: nil) }
            if let product = UInt16(parts[1], radix: 16), parts[1].count <= 4 { return .usbID(vendor: vendor, product: product) }
            throw DeviceFilterError(value: text)
        }
        if value.contains(":") { throw DeviceFilterError(value: text) }
        return .serial(value)
    }

    public var description: String {
        switch self {
        case .path(let path): path
        case .usbID(let vendor, let product): DeviceInfo.hex4(vendor) + ":" + (product.map(DeviceInfo.hex4) ?? "*")
        case .serial(let serial): "serial " + serial
        }
    }
}

/// A `--device` value that is none of the accepted forms.
public struct DeviceFilterError: Error, Sendable, CustomStringConvertible {
    public var value: String
    public var description: String {
        "--device '\(value)' is not a path (/dev/ttyACM0, /dev/serial/by-id/...), a USB id (2341:0043 or 2341:*) or a serial number"
    }
}

extension String {
    func trimmingCharacters(_ character: Character) -> String {
        var s = Substring(self)
        while s.first == character { s.removeFirst() }
        while s.last == character { s.removeLast() }
        return String(s)
    }
}
