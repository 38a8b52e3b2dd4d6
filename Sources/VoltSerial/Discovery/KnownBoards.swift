/// USB ids of boards and USB-serial bridges an Arduino-class voltage sampler is found behind.
///
/// Auto-discovery picks only these, so a GPS receiver or a modem on the same gateway is never
/// opened by mistake. Anything else can still be chosen with `--device`.
public enum KnownBoards {
    public struct Entry: Sendable, Equatable {
        public var vendorID: UInt16
        /// nil: every product of the vendor (Arduino's own ids).
        public var productID: UInt16?
        public var name: String
        /// Prefix of the device id, e.g. `arduino-uno`.
        public var slug: String
    }

    public static let entries: [Entry] = [
        Entry(vendorID: 0x2341, productID: 0x0043, name: "Arduino Uno", slug: "arduino-uno"),
        Entry(vendorID: 0x2341, productID: 0x0001, name: "Arduino Uno", slug: "arduino-uno"),
        Entry(vendorID: 0x2341, productID: 0x0243, name: "Arduino Uno R3", slug: "arduino-uno"),
        Entry(vendorID: 0x2341, productID: 0x0042, name: "Arduino Mega 2560", slug: "arduino-mega"),
        Entry(vendorID: 0x2341, productID: 0x8036, name: "Arduino Leonardo", slug: "arduino-leonardo"),
        Entry(vendorID: 0x2341, productID: 0x0069, name: "Arduino Uno R4 Minima", slug: "arduino-uno-r4"),
        Entry(vendorID: 0x2341, productID: 0x1002, name: "Arduino Uno R4 WiFi", slug: "arduino-uno-r4"),
        Entry(vendorID: 0x2341, productID: nil, name: "Arduino", slug: "arduino"),
        Entry(vendorID: 0x2A03, productID: nil, name: "Arduino (arduino.org)", slug: "arduino"),
        Entry(vendorID: 0x1A86, productID: 0x7523, name: "CH340 USB-serial", slug: "ch340"),
        Entry(vendorID: 0x1A86, productID: 0x5523, name: "CH341 USB-serial", slug: "ch341"),
        Entry(vendorID: 0x1A86, productID: 0x55D4, name: "CH9102 USB-serial", slug: "ch9102"),
        Entry(vendorID: 0x0403, productID: 0x6001, name: "FTDI FT232R", slug: "ftdi"),
        Entry(vendorID: 0x0403, productID: 0x6015, name: "FTDI FT-X", slug: "ftdi"),
        Entry(vendorID: 0x10C4, productID: 0xEA60, name: "Silicon Labs CP210x", slug: "cp210x"),
        Entry(vendorID: 0x239A, productID: nil, name: "Adafruit", slug: "adafruit"),
        Entry(vendorID: 0x1B4F, productID: nil, name: "SparkFun", slug: "sparkfun"),
    ]

    /// The most specific entry for these ids (an exact product before a vendor-wide entry).
    public static func lookup(vendorID: UInt16?, productID: UInt16?) -> Entry? {
        guard let vendorID else { return nil }
        return entries.first { $0.vendorID == vendorID && $0.productID == productID }
            ?? entries.first { $0.vendorID == vendorID && $0.productID == nil }
    }
}
