import Testing
@testable import VoltSerial

@Suite struct DeviceSelectorTests {
    let uno = DeviceInfo(
        path: "/dev/ttyACM0", sysPath: "/sys/devices/usb1/1-1/1-1:1.0/tty/ttyACM0",
        vendorID: 0x2341, productID: 0x0043, serial: "85736323838351E0C1A1", product: "Arduino Uno",
        byID: ["/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_85736323838351E0C1A1-if00"],
        byPath: ["/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0"])
    let ch340 = DeviceInfo(
        path: "/dev/ttyUSB0", sysPath: "/sys/devices/usb1/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0",
        vendorID: 0x1A86, productID: 0x7523, product: "USB Serial",
        byPath: ["/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0"])
    let gps = DeviceInfo(path: "/dev/ttyACM1", sysPath: "/sys/x", vendorID: 0x1546, productID: 0x01A7, product: "u-blox GNSS")

    @Test func autoDiscoveryPicksKnownBoardsOnly() {
        let selector = DeviceSelector()
        #expect(selector.verdict(uno).picked)
        #expect(selector.verdict(ch340).picked)
        #expect(!selector.verdict(gps).picked)
        #expect(selector.discovered([uno, ch340, gps]) == [uno, ch340])
    }

    @Test func deviceIDsComeFromTheSerialElseTheTopology() {
        #expect(uno.deviceID == "arduino-uno-85736323838351E0C1A1")
        #expect(ch340.deviceID == "ch340-pci-0000-00-14-0-usb-0-2-1-0")
        #expect(gps.deviceID == "u-blox-gnss-ttyACM1")
    }

    @Test func filtersPickByUSBIDSerialOrPath() throws {
        let byID = DeviceSelector(filters: [try DeviceFilter.parse("1546:01a7")])
        #expect(byID.verdict(gps).picked && !byID.verdict(uno).picked)
        let vendor = DeviceSelector(filters: [try DeviceFilter.parse("2341:*")])
        #expect(vendor.verdict(uno).picked && !vendor.verdict(ch340).picked)
        let serial = DeviceSelector(filters: [try DeviceFilter.parse("85736323838351E0C1A1")])
        #expect(serial.verdict(uno).picked && !serial.verdict(ch340).picked)
        let link = DeviceSelector(filters: [try DeviceFilter.parse(uno.byID[0])])
        #expect(link.verdict(uno).picked)
        #expect(link.paths == [uno.byID[0]])
        #expect(!link.usesDiscovery)
    }

    @Test(arguments: ["", "23:41:00", "zz:0043", "2341:xyz"])
    func badFiltersAreRejectedWithTheAcceptedForms(value: String) {
        #expect(throws: DeviceFilterError.self) { try DeviceFilter.parse(value) }
    }

    @Test func unknownDevicesSayHowToChooseThem() {
        #expect(DeviceSelector().verdict(gps).reason.contains("--device 1546:01a7"))
    }
}
