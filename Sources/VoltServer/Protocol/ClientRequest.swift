public import VoltCore

/// What a client may ask of the agent, the same on `/ws` and `/socket.io/` (DESIGN.md).
public enum ClientRequest: Sendable, Equatable {
    /// A sample from the app itself, scored as device `app`. `timestampMs` is epoch
    /// milliseconds when the client gave a time.
    case voltageData(volts: Double, timestampMs: Int64?)
    case startSimulation(speed: Double?, scenario: String?)
    case stopSimulation
    case resetSimulation

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
        default:
            throw ClientMessageError(
                "unknown event '\(event.prefix(40))': send voltage_data, start_simulation, stop_simulation or reset_simulation")
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
        // The original app sends {"voltage": 2.5}; a bare number is accepted too.
        if case .number(let n)? = data, n.isFinite { return .voltageData(volts: n, timestampMs: nil) }
        let fields = try object(data, event: "voltage_data", optional: false)
        guard case .number(let volts)? = fields["voltage"], volts.isFinite else {
            throw ClientMessageError("voltage_data needs {\"voltage\": <volts>, \"timestamp\"?: <epoch seconds>}")
        }
        var ms: Int64?
        if let t = fields["timestamp"], t != .null {
            guard case .number(let seconds) = t, seconds.isFinite, seconds >= 0, seconds < 1e13 else {
                throw ClientMessageError("voltage_data: timestamp must be epoch seconds (or milliseconds)")
            }
            // Epoch milliseconds are told apart from seconds by size (year 2286 in seconds).
            ms = seconds > 1e10 ? Int64(seconds) : Int64((seconds * 1000).rounded())
        }
        return .voltageData(volts: volts, timestampMs: ms)
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
