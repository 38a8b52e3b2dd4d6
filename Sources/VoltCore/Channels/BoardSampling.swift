/// What the user wants a board to sample (the settings file's `boards` entry): which channels,
/// how often. The agent asks the board with `$SET` when its `$HELLO` says otherwise, so a
/// second channel is one line of settings and a reload, not a firmware rebuild.
public struct BoardSampling: Sendable, Equatable {
    /// Ascending, each once, 1 to 6.
    public var channels: [AnalogChannel]
    /// nil keeps the board's period.
    public var periodMs: Int?

    /// The period range the firmware accepts.
    public static let periodRange = 20...60_000

    public init(channels: [AnalogChannel], periodMs: Int? = nil) {
        self.channels = channels
        self.periodMs = periodMs
    }

    /// The `$SET` sentence (checksummed, without line end) that makes a board saying `hello`
    /// sample as wanted; nil when it already does.
    public func command(toChange hello: Hello) -> String? {
        let sampled = hello.channels ?? [.a0]
        let period = periodMs ?? hello.periodMs
        guard sampled != channels || period != hello.periodMs else { return nil }
        return FrameParser.sentence("SET,\(AnalogChannel.setText(channels)),\(period)")
    }

    func jsonText() -> String {
        var text = "{\"channels\": \(JSONText.string(AnalogChannel.setText(channels)))"
        if let periodMs { text += ", \"period_ms\": \(periodMs)" }
        return text + "}"
    }

    static func parse(_ value: JSONValue, path: String, issues: inout [ConfigError.Issue]) -> BoardSampling? {
        guard case .object(let object) = value else {
            issues.append(.init(key: path, message: "must be an object: {\"channels\": \"A0+A1\", \"period_ms\": 100}"))
            return nil
        }
        for key in object.keys.sorted() where key != "channels" && key != "period_ms" {
            issues.append(.init(key: "\(path).\(key)", message: "unknown key (known: channels, period_ms)"))
        }
        var channels: [AnalogChannel]?
        switch object["channels"] {
        case .string(let text)?:
            channels = AnalogChannel.parseSet(text)
        case .array(let items)?:
            let names = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            if names.count == items.count { channels = AnalogChannel.parseSet(names.joined(separator: "+")) }
        default:
            break
        }
        if channels == nil {
            issues.append(.init(key: "\(path).channels", message: "must name 1 to 6 distinct channels A0-A5, as \"A0+A1\" or [\"A0\", \"A1\"]"))
        }
        var period: Int?
        if let value = object["period_ms"] {
            if case .number(let v) = value, v.rounded() == v, BoardSampling.periodRange.contains(Int(exactly: v) ?? 0) {
                period = Int(v)
            } else {
                issues.append(.init(key: "\(path).period_ms", message: "must be a whole number of milliseconds from 20 to 60000"))
            }
        }
        guard let channels else { return nil }
        return BoardSampling(channels: channels, periodMs: period)
    }
}
