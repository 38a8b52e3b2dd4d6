public import VoltCore

/// What a client may ask of the agent, the same on `/ws` and `/socket.io/` (DESIGN.md).
public enum ClientRequest: Sendable, Equatable {
    /// A sample from the app itself, scored by that app's own scorer (``AppScorers``).
    /// `timestampMs` is epoch milliseconds when the client gave a time; `device` is the
    /// app's own name for its source (results say `app:<device>`), nil for plain `app`.
    case voltageData(volts: Double, timestampMs: Int64?, device: String? = nil)
    case startSimulation(speed: Double?, scenario: String?)
    case stopSimulation
    case resetSimulation
    /// What happened over a window, in sentences (`summary_request`, answered with `summary`):
    /// `/api/summary` for a client that holds only a socket.
    case summary(device: String?, window: String)

    /// Interprets an event by name and data. Unknown names and bad fields are errors that say
    /// what was expected, answered with an `error` event; the connection stays open.
    public static func from(event: String, data: JSONValue?) throws(ClientMessageError) -> ClientRequest {
        switch event {
        case "voltage_data":
            return try voltage(data)
        case "start_simulation":
            let fields = try object(data, event: event, optional: true)
            var speed: Double?
            if let value = fields["speed"], value != .null {
                guard case .number(let n) = value, n.isFinite, n > 0 else {
                    throw ClientMessageError("start_simulation: speed must be a positive number")
                }
                speed = n
            }
            var scenario: String?
            if let value = fields["scenario"], value != .null {
                guard case .string(let s) = value else { throw ClientMessageError("start_simulation: scenario must be a string") }
                scenario = s
            }
            return .startSimulation(speed: speed, scenario: scenario)
        case "stop_simulation":
            return .stopSimulation
        case "reset_simulation":
            return .resetSimulation
        case "summary_request":
            let fields = try object(data, event: event, optional: true)
            var device: String?
            if let value = fields["device"], value != .null {
                guard case .string(let s) = value, !s.isEmpty, s.count <= 200 else {
                    throw ClientMessageError("summary_request: device must be a stream id")
                }
                device = s
            }
            var window = "24h"
            if let value = fields["window"], value != .null {
                guard case .string(let s) = value, HistorySummary.window(s) != nil else {
                    throw ClientMessageError("summary_request: window must be a duration such as 90m, 24h or 7d")
                }
                window = s
            }
            return .summary(device: device, window: window)
        default:
            throw ClientMessageError(
                "unknown event '\(event.prefix(40))': send voltage_data, start_simulation, stop_simulation, reset_simulation or summary_request")
        }
    }

    /// `{"event": NAME, "data": {...}}`, the `/ws` framing.
    public static func parse(webSocketText bytes: [UInt8]) throws(ClientMessageError) -> ClientRequest {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw ClientMessageError("message is not JSON: send {\"event\": NAME, \"data\": {...}}")
        }
        guard case .object(let fields) = value, case .string(let event)? = fields["event"] else {
            throw ClientMessageError("message must be an object {\"event\": NAME, \"data\": {...}}")
        }
        return try from(event: event, data: fields["data"])
    }

    /// `["NAME", data]`, the payload of a Socket.IO event packet.
    public static func parse(socketIOPayload text: String) throws(ClientMessageError) -> ClientRequest {
        let value: JSONValue
        do { value = try JSONValue.parse(Array(text.utf8)) } catch {
            throw ClientMessageError("event payload is not JSON")
        }
        guard case .array(let items) = value, case .string(let event)? = items.first else {
            throw ClientMessageError("event payload must be [\"NAME\", data]")
        }
        return try from(event: event, data: items.count > 1 ? items[1] : nil)
    }

    private static func voltage(_ data: JSONValue?) throws(ClientMessageError) -> ClientRequest {
        // The original app sends {"voltage": 2.5}; a bare number is accepted too, and, as the
        // original's float() did, a number written as a string ({"voltage": "2.5"}).
        if let data, case .number(let n)? = number(data), n.isFinite {
            return .voltageData(volts: try inRange(n), timestampMs: nil)
        }
        let fields = try object(data, event: "voltage_data", optional: false)
        guard let value = fields["voltage"], case .number(let volts)? = number(value), volts.isFinite else {
            throw ClientMessageError(
                "voltage_data needs {\"voltage\": <volts>, \"timestamp\"?: <epoch seconds>, \"device\"?: <name>}")
        }
        _ = try inRange(volts)
        var ms: Int64?
        if let t = fields["timestamp"], t != .null {
            guard case .number(let seconds)? = number(t), seconds.isFinite, seconds >= 0, seconds < 1e13 else {
                throw ClientMessageError("voltage_data: timestamp must be epoch seconds (or milliseconds)")
            }
            // Epoch milliseconds are told apart from seconds by size (year 2286 in seconds).
            ms = seconds > 1e10 ? Int64(seconds) : Int64((seconds * 1000).rounded())
        }
        var device: String?
        if let d = fields["device"], d != .null {
            guard case .string(let name) = d, isDeviceName(name) else {
                throw ClientMessageError(
                    "voltage_data: device must be 1 to \(maxDeviceNameLength) letters, digits, '.', '_' or '-'")
            }
            device = name
        }
        return .voltageData(volts: volts, timestampMs: ms, device: device)
    }

    /// The bound a serial frame's voltage has too (``FrameParser/maxAbsoluteVolts``): a value
    /// beyond it is no reading, and a phone must not be able to feed the scorer one.
    private static func inRange(_ volts: Double) throws(ClientMessageError) -> Double {
        guard abs(volts) <= FrameParser.maxAbsoluteVolts else {
            throw ClientMessageError("voltage_data: voltage must be within ±\(Int(FrameParser.maxAbsoluteVolts)) V")
        }
        return volts
    }

    /// Longest app-given `device` name, characters.
    public static let maxDeviceNameLength = 40

    /// A name that reads well in `app:<name>` and in logs: ASCII letters, digits, `.`, `_`, `-`.
    static func isDeviceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxDeviceNameLength else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// A JSON number, or a string holding one (surrounding spaces allowed, as Python's
    /// `float()` allows); nil for anything else. `"nan"` and `"inf"` parse but are refused
    /// by the callers' finiteness checks.
    private static func number(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .number: return value
        case .string(let text):
            guard text.utf8.count <= 64 else { return nil }
            let trimmed = text.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
            guard let n = Double(String(trimmed)) else { return nil }
            return .number(n)
        default: return nil
        }
    }

    private static func object(_ data: JSONValue?, event: String, optional: Bool) throws(ClientMessageError) -> [String: JSONValue] {
        switch data {
        case .object(let fields)?: return fields
        case nil, .null?: if optional { return [:] }
        default: break
        }
        throw ClientMessageError("\(event): data must be an object")
    }
}

/// A client message that cannot be acted on; answered with an `error` event.
public struct ClientMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
