import VoltCore

/// `GET /api/status`: the devices and their stream health, the clients, the uptime
/// (DESIGN.md "HTTP"). Encoded with `JSONEncoder`; the keys are the contract's snake_case.
struct StatusReport: Encodable, Sendable {
    var status = "ok"
    var version = VoltwatchVersion.string
    var uptimeSeconds: Double
    var devices: [DeviceReport]
    var clients: Clients
    var anomaliesKept: Int
    /// `POST /api/replay` uploads being scored, and how many may be at once.
    var uploads = Uploads(inProgress: 0, max: 0)
    /// The store's state; nil (`null`) when history is off.
    var history: HistoryStatus?

    struct Uploads: Encodable, Sendable {
        var inProgress: Int
        var max: Int

        enum CodingKeys: String, CodingKey {
            case max
            case inProgress = "in_progress"
        }
    }

    struct Clients: Encodable, Sendable {
        var connected: Int
        var ws: Int
        var socketio: Int
        var max: Int
        var droppedMessages: Int

        enum CodingKeys: String, CodingKey {
            case connected, ws, socketio, max
            case droppedMessages = "dropped_messages"
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, version, devices, clients, uploads, history
        case uptimeSeconds = "uptime_seconds"
        case anomaliesKept = "anomalies_kept"
    }

    /// `history` is `null` when history is off, not left out: a client can tell "off" from
    /// "an older agent".
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(version, forKey: .version)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(devices, forKey: .devices)
        try c.encode(clients, forKey: .clients)
        try c.encode(anomaliesKept, forKey: .anomaliesKept)
        try c.encode(uploads, forKey: .uploads)
        try c.encode(history, forKey: .history)
    }
}

/// One device's entry in ``StatusReport``.
struct DeviceReport: Encodable, Sendable {
    var device: String
    var state: String
    var path: String?
    var firmware: String?
    /// For a channel's stream, the board it belongs to.
    var board: String?
    var channel: String?
    /// The stream's name and unit from the settings file (unit "V" for any channel).
    var name: String?
    var unit: String?
    /// The newest result's value, in `unit`.
    var lastValue: Double?
    /// Receive time of the newest line or result, epoch seconds.
    var lastReceived: Double?
    var lastReceivedAgeSeconds: Double?
    /// No line for longer than the stale limit (or none yet).
    var stale: Bool
    var frames: Int
    var results: Int
    var anomalies: Int
    var invalid: Int
    var invalidByReason: InvalidByReason
    var lost: Int

    struct InvalidByReason: Encodable, Sendable {
        var checksum: Int
        var syntax: Int
        var tooLong: Int
        var outOfRange: Int

        enum CodingKeys: String, CodingKey {
            case checksum, syntax
            case tooLong = "too_long"
            case outOfRange = "out_of_range"
        }
    }

    enum CodingKeys: String, CodingKey {
        case device, state, path, firmware, board, channel, name, unit, stale, frames, results, anomalies, invalid, lost
        case lastValue = "last_value"
        case lastReceived = "last_received"
        case lastReceivedAgeSeconds = "last_received_age_seconds"
        case invalidByReason = "invalid_by_reason"
    }

    /// Keys with no value are written as `null`, as the contract shows them, not left out.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(device, forKey: .device)
        try c.encode(state, forKey: .state)
        try c.encode(path, forKey: .path)
        try c.encode(firmware, forKey: .firmware)
        try c.encode(board, forKey: .board)
        try c.encode(channel, forKey: .channel)
        try c.encode(name, forKey: .name)
        try c.encode(unit, forKey: .unit)
        try c.encode(lastValue, forKey: .lastValue)
        try c.encode(lastReceived, forKey: .lastReceived)
        try c.encode(lastReceivedAgeSeconds, forKey: .lastReceivedAgeSeconds)
        try c.encode(stale, forKey: .stale)
        try c.encode(frames, forKey: .frames)
        try c.encode(results, forKey: .results)
        try c.encode(anomalies, forKey: .anomalies)
        try c.encode(invalid, forKey: .invalid)
        try c.encode(invalidByReason, forKey: .invalidByReason)
        try c.encode(lost, forKey: .lost)
    }
}

/// `GET /api/health`: answered without a token, for load balancers and `systemctl`-side checks.
struct HealthReport: Encodable, Sendable {
    var status = "healthy"
    var version = VoltwatchVersion.string
    var uptimeSeconds: Double

    enum CodingKeys: String, CodingKey {
        case status, version
        case uptimeSeconds = "uptime_seconds"
    }
}

extension Double {
    /// Milliseconds as seconds, to the millisecond.
    init(secondsFromMilliseconds ms: Int64) {
        self = Double(ms) / 1000
    }
}
