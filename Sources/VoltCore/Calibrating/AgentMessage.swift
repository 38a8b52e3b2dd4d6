/// A message from the agent's `/ws` (`{"event": NAME, "data": {...}}`), read as far as a
/// client that watches streams needs: `voltwatch calibrate` takes its readings from the
/// running agent, which holds the serial port.
public enum AgentMessage: Sendable, Equatable {
    /// An `anomaly_result`.
    case result(StreamReading)
    /// `hello`: the stream ids it names (its devices and the devices of its recent results),
    /// sorted, each once.
    case hello(streams: [String])
    /// `error`: the agent refused something (a missing or wrong token, before it closes).
    case error(String)
    /// Any other event, by name.
    case other(String)

    /// nil when `text` is not an event object, or an `anomaly_result` lacks its numbers.
    public static func parse(_ text: String) -> AgentMessage? {
        guard case .object(let message)? = try? JSONValue.parse(Array(text.utf8)),
              case .string(let event)? = message["event"] else { return nil }
        let data: [String: JSONValue]
        if case .object(let object)? = message["data"] { data = object } else { data = [:] }
        switch event {
        case "anomaly_result":
            return reading(data).map(AgentMessage.result)
        case "hello":
            var streams = Set<String>()
            for key in ["devices", "recent"] {
                guard case .array(let items)? = data[key] else { continue }
                for case .object(let item) in items {
                    if case .string(let device)? = item["device"] { streams.insert(device) }
                }
            }
            return .hello(streams: streams.sorted())
        case "error":
            if case .string(let text)? = data["message"] { return .error(text) }
            return .error("the agent reported an error")
        default:
            return .other(event)
        }
    }

    private static func reading(_ data: [String: JSONValue]) -> StreamReading? {
        guard case .string(let device)? = data["device"], case .number(let value)? = data["voltage"] else { return nil }
        var pin = value
        if case .number(let volts)? = data["pin_volts"] { pin = volts }
        var unit: String?
        if case .string(let text)? = data["unit"] { unit = text }
        var name: String?
        if case .string(let text)? = data["name"] { name = text }
        return StreamReading(stream: device, pinVolts: pin, value: value, unit: unit, name: name)
    }
}
