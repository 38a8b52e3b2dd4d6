import ArgumentParser
import VoltCore
import VoltSerial

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the serial devices udev sees, and which ones run would read.",
        discussion: """
            Lists every tty with a USB parent: path, USB id, serial number, product, by-id link, \
            the device id results are published under, and whether `voltwatch run` (with the \
            same --device filters) would pick it, and why. Nothing is opened: listing never \
            resets a board or disturbs a program using a port.
            """
    )

    @Option(name: .customLong("device"), help: ArgumentHelp("The same filters as run --device.", valueName: "device"))
    var devices: [String] = []

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    func validate() throws {
        for device in devices {
            do { _ = try DeviceFilter.parse(device) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        var filters: [DeviceFilter] = []
        for device in devices { filters.append(try DeviceFilter.parse(device)) }
        let selector = DeviceSelector(filters: filters)
        let found: [DeviceInfo]
        do {
            found = try Udev().serialDevices()
        } catch {
            StandardError.write("devices: \(error.description)\n")
            throw ExitCode(1)
        }
        let rows = found.map { ($0, selector.verdict($0)) }
        if json {
            let objects = rows.map { device, verdict in Self.json(device, picked: verdict.picked, reason: verdict.reason) }
            Swift.print("[" + objects.joined(separator: ",") + "]")
            return
        }
        if rows.isEmpty {
            Swift.print("No USB serial devices found. Plug the board in (a charge-only cable shows nothing; `dmesg -w` shows what the kernel sees).")
            return
        }
        for (device, verdict) in rows {
            Swift.print("\(verdict.picked ? "*" : " ") \(device.path)  \(device.vidPid ?? "----:----")  \(device.deviceID)")
            Swift.print("    product: \(device.manufacturer.map { $0 + " " } ?? "")\(device.product ?? "-")  serial: \(device.serial ?? "-")  driver: \(device.driver ?? "-")")
            for link in device.byID { Swift.print("    by-id:   \(link)") }
            for link in device.byPath { Swift.print("    by-path: \(link)") }
            Swift.print("    \(verdict.picked ? "picked" : "not picked"): \(verdict.reason)")
        }
    }

    static func json(_ device: DeviceInfo, picked: Bool, reason: String) -> String {
        func string(_ value: String?) -> String { value.map(JSONText.string) ?? "null" }
        func list(_ values: [String]) -> String { "[" + values.map(JSONText.string).joined(separator: ",") + "]" }
        let fields = [
            "\"path\":" + string(device.path),
            "\"device\":" + string(device.deviceID),
            "\"vid\":" + string(device.vendorID.map { DeviceIDText.hex4($0) }),
            "\"pid\":" + string(device.productID.map { DeviceIDText.hex4($0) }),
            "\"serial\":" + string(device.serial),
            "\"product\":" + string(device.product),
            "\"manufacturer\":" + string(device.manufacturer),
            "\"driver\":" + string(device.driver),
            "\"by_id\":" + list(device.byID),
            "\"by_path\":" + list(device.byPath),
            "\"syspath\":" + string(device.sysPath),
            "\"picked\":" + (picked ? "true" : "false"),
            "\"reason\":" + string(reason),
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}

enum DeviceIDText {
    static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
