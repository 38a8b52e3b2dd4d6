/// A serial device as udev describes it, without opening it.
public struct DeviceInfo: Sendable, Equatable, Hashable {
    /// The device node, e.g. `/dev/ttyACM0`.
    public var path: String
    /// The kernel's sysfs path; stable while the device stays plugged in.
    public var sysPath: String
    /// USB vendor and product ids.
    public var vendorID: UInt16?
    public var productID: UInt16?
    /// The USB serial number string (Arduinos have one; most CH340 clones do not).
    public var serial: String?
    public var product: String?
    public var manufacturer: String?
    /// The kernel driver of the USB interface (`cdc_acm`, `ch341`, `ftdi_sio`, `cp210x`).
    public var driver: String?
    /// `/dev/serial/by-id/...` and `/dev/serial/by-path/...` links.
    public var byID: [String]
    public var byPath: [String]
    /// udev's `ID_PATH` (USB topology), when known; names boards without a serial number.
    public var topology: String?

    public init(
        path: String, sysPath: String, vendorID: UInt16? = nil, productID: UInt16? = nil,
        serial: String? = nil, product: String? = nil, manufacturer: String? = nil,
        driver: String? = nil, byID: [String] = [], byPath: [String] = [], topology: String? = nil
    ) {
        self.path = path
        self.sysPath = sysPath
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
        self.product = product
        self.manufacturer = manufacturer
        self.driver = driver
        self.byID = byID
        self.byPath = byPath
        self.topology = topology
    }

    /// `2341:0043`, lower-case hex, or nil without USB ids.
    public var vidPid: String? {
        guard let vendorID, let productID else { return nil }
        return Self.hex4(vendorID) + ":" + Self.hex4(productID)
    }

    /// The id results are published under: the board's kind plus its USB serial number
    /// (stable across ports and reboots), else its USB topology (stable while it stays in the
    /// same socket), else the kernel name. E.g. `arduino-uno-85736323838351E0C1A1`.
    public var deviceID: String {
        let kind = Self.slug(KnownBoards.lookup(vendorID: vendorID, productID: productID)?.slug
            ?? product ?? vidPid.map { "usb-" + $0 } ?? "serial")
        if let serial, !serial.isEmpty { return kind + "-" + Self.slug(serial, keepCase: true) }
        if let link = byPath.first {
            return kind + "-" + Self.slug(Self.lastComponent(link).replacingOccurrences("-port0", ""), keepCase: false)
        }
        if let topology, !topology.isEmpty { return kind + "-" + Self.slug(topology) }
        return kind + "-" + Self.lastComponent(path)
    }

    static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Lower-case letters, digits and single dashes: safe in file names, URLs and JSON.
    static func slug(_ text: String, keepCase: Bool = false) -> String {
        var out = ""
        var dash = false
        for scalar in text.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
            if ok {
                out.unicodeScalars.append(scalar)
                dash = false
            } else if !dash && !out.isEmpty {
                out += "-"
                dash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return keepCase ? out : out.lowercased()
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(target) {
                return start..<index(start, offsetBy: target.count)
            }
            start = index(after: start)
        }
        return nil
    }
}
