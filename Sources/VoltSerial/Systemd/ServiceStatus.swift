public import VoltCore

/// The `STATUS=` line `systemctl status` shows, built from the events the readers publish:
/// "connected to /dev/ttyACM0, 10.0 frames/s, 3 clients".
///
/// Pure: the caller passes the monotonic time of each event, so frame rates are tested
/// without waiting.
public struct ServiceStatus: Sendable, Equatable {
    struct Device: Sendable, Equatable {
        var state: DeviceState
        var path: String?
        /// Frames counted at the last counters event, and when.
        var frames: Int?
        var framesAtMs: Int64?
        /// Frames per second between the last two counters events.
        var rate: Double?
    }

    var devices: [String: Device] = [:]
    /// Shown after the device part, e.g. the last reload's outcome.
    public var note: String?

    public init() {}

    /// Takes in one event; results are ignored (counters carry the frame count).
    public mutating func record(_ event: AgentEvent, atMs now: Int64) {
        switch event {
        case .deviceStatus(let status):
            var device = devices[status.device] ?? Device(state: status.state)
            device.state = status.state
            if let path = status.path { device.path = path }
            if status.state != .connected { device.rate = nil }
            devices[status.device] = device
        case .counters(let id, let counters):
            var device = devices[id] ?? Device(state: .connected)
            if let before = device.frames, let at = device.framesAtMs, now > at, counters.frames >= before {
                device.rate = Double(counters.frames - before) * 1000 / Double(now - at)
            }
            device.frames = counters.frames
            device.framesAtMs = now
            devices[id] = device
        case .result, .episode, .hello, .configReloaded:
            break
        }
    }

    /// The line, with `clients` when a server runs (nil: no server, no client count).
    public func line(clients: Int?) -> String {
        var parts: [String] = []
        let sorted = devices.sorted { ($0.value.path ?? $0.key) < ($1.value.path ?? $1.key) }
        if sorted.isEmpty {
            parts.append("waiting for a board (none plugged in)")
        } else {
            for (id, device) in sorted {
                let name = device.path ?? id
                switch device.state {
                case .connected:
                    let rate = device.rate.map { Self.oneDecimal($0) + " frames/s" } ?? "starting"
                    parts.append("connected to \(name), \(rate)")
                case .waiting:
                    parts.append("waiting for \(device.path ?? id)")
                case .disconnected:
                    parts.append("\(name) disconnected, waiting for it to return")
                }
            }
        }
        if let clients { parts.append(clients == 1 ? "1 client" : "\(clients) clients") }
        var text = parts.joined(separator: ", ")
        if let note { text += "; " + note }
        return text
    }

    /// `10.0`: one decimal without Foundation's formatters.
    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
