/// The agent's settings file (`--settings`, `/etc/voltwatch/settings.json` under systemd):
/// what the user says about their streams, as opposed to how to score them
/// (`model_config.json`).
///
/// ```json
/// {"channels": {
///    "arduino-uno-8573/A0": {"name": "House battery", "unit": "V",
///                            "calibration": {"divider_ohms": [100000, 10000]}, "min": 11.8},
///    "arduino-uno-8573/A1": {"name": "Panel current", "unit": "A",
///                            "calibration": {"scale": 5.405, "offset": -13.51}},
///    "fake": {"name": "Bench supply", "calibration": {"points": [[1.02, 5.0], [2.41, 12.0]]}}
/// },
///  "boards": {"arduino-uno-8573": {"channels": "A0+A1", "period_ms": 100}},
///  "cors_origins": ["https://dash.example"]}
/// ```
///
/// A key is a stream id: `<device>/<channel>` for a channel of a `$VOLTS` board, `<device>` for a
/// single-signal board (which is its A0, so `<device>/A0` names it too). Reloaded with the
/// model on SIGHUP; a file that does not validate is refused, naming each bad key.
public struct AgentSettings: Sendable, Equatable {
    public var channels: [String: ChannelSettings]
    /// What each board (by device id) should sample; the agent sends `$SET` when it differs.
    public var boards: [String: BoardSampling]
    /// Origins whose web pages may read the REST API (`--cors-origin` wins when given); nil:
    /// the default rule (docs/DESIGN.md, CORS). Read at start.
    public var corsOrigins: [String]?
    /// MQTT publishing (docs/mqtt.md); nil: none (unless `run --mqtt`). Reloaded on SIGHUP.
    public var mqtt: MQTTSettings?
    /// URLs POSTed on each alarm episode's start and end. Reloaded on SIGHUP.
    public var webhooks: [WebhookSettings] = []

    public static let empty = AgentSettings()

    public init(channels: [String: ChannelSettings] = [:], boards: [String: BoardSampling] = [:], corsOrigins: [String]? = nil) {
        self.channels = channels
        self.boards = boards
        self.corsOrigins = corsOrigins
    }

    public static let knownKeys = ["channels", "boards", "cors_origins", "mqtt", "webhooks"]

    /// The settings of `device`'s stream on `channel` (nil: its single signal).
    public func settings(device: String, channel: AnalogChannel?) -> ChannelSettings? {
        let channel = channel ?? .a0
        if let exact = channels["\(device)/\(channel.name)"] { return exact }
        return channel == .a0 ? channels[device] : nil
    }

    /// The entries that concern `device`, for a recording's header: a replay of it applies
    /// what was in effect live.
    public func restricted(to device: String) -> AgentSettings {
        AgentSettings(channels: channels.filter { key, _ in key == device || key.hasPrefix(device + "/") },
                      boards: boards.filter { $0.key == device })
    }

    /// The same entries with `old`'s stream ids under `new` (a replay named with `--device`
    /// applies the recorded device's settings).
    public func renamingDevice(_ old: String, to new: String) -> AgentSettings {
        var renamed = AgentSettings()
        for (key, value) in channels {
            if key == old { renamed.channels[new] = value } else if key.hasPrefix(old + "/") {
                renamed.channels[new + key.dropFirst(old.count)] = value
            } else { renamed.channels[key] = value }
        }
        for (key, value) in boards { renamed.boards[key == old ? new : key] = value }
        return renamed
    }

    // MARK: Parsing

    public static func parse(json bytes: [UInt8], source: String? = nil) throws(ConfigError) -> AgentSettings {
        let object = try JSONValue.configurationObject(bytes, source: source, what: "the settings")
        var issues: [ConfigError.Issue] = []
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            issues.append(.init(key: key, message: "unknown key (known: \(knownKeys.joined(separator: ", ")))"))
        }
        var settings = AgentSettings()
        switch object["channels"] {
        case nil, .null?:
            break
        case .object(let entries)?:
            for (stream, value) in entries.sorted(by: { $0.key < $1.key }) {
                let path = "channels.\(stream)"
                if let problem = streamKeyProblem(stream) {
                    issues.append(.init(key: path, message: problem))
                    continue
                }
                if let parsed = ChannelSettings.parse(value, path: path, issues: &issues) {
                    settings.channels[stream] = parsed
                }
            }
        case let other?:
            issues.append(.init(key: "channels", message: "must be an object of stream ids, not \(other.typeName)"))
        }
        switch object["boards"] {
        case nil, .null?:
            break
        case .object(let entries)?:
            for (device, value) in entries.sorted(by: { $0.key < $1.key }) {
                let path = "boards.\(device)"
                guard !device.isEmpty, !device.contains("/") else {
                    issues.append(.init(key: path, message: "a board is named by its device id, without a channel"))
                    continue
                }
                if let sampling = BoardSampling.parse(value, path: path, issues: &issues) { settings.boards[device] = sampling }
            }
        case let other?:
            issues.append(.init(key: "boards", message: "must be an object of device ids, not \(other.typeName)"))
        }
        switch object["cors_origins"] {
        case nil, .null?:
            break
        case .array(let items)?:
            var origins: [String] = []
            for item in items {
                guard case .string(let origin) = item, isOrigin(origin) else {
                    issues.append(.init(key: "cors_origins", message: "each entry must be an origin with scheme and host (https://dash.example) or *"))
                    break
                }
                origins.append(origin)
            }
            settings.corsOrigins = origins
        case let other?:
            issues.append(.init(key: "cors_origins", message: "must be an array of origins, not \(other.typeName)"))
        }
        switch object["mqtt"] {
        case nil, .null?: break
        case let value?: settings.mqtt = MQTTSettings.parse(value, path: "mqtt", issues: &issues)
        }
        if let value = object["webhooks"], value != .null {
            settings.webhooks = WebhookSettings.parseList(value, issues: &issues)
        }
        // `dev` and `dev/A0` are one stream.
        if case .object(let entries)? = object["channels"] {
            for key in entries.keys.sorted() where !key.contains("/") && entries["\(key)/A0"] != nil {
                issues.append(.init(key: "channels.\(key)", message: "names the same stream as \"\(key)/A0\"; keep one"))
            }
        }
        if !issues.isEmpty { throw ConfigError(issues: issues, source: source) }
        return settings
    }

    public static func parse(json text: String, source: String? = nil) throws(ConfigError) -> AgentSettings {
        try parse(json: Array(text.utf8), source: source)
    }

    /// `*`, or `http(s)://host[:port]` without a path.
    public static func isOrigin(_ text: String) -> Bool {
        if text == "*" { return true }
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.contains("/") && !rest.contains(" ")
        }
        return false
    }

    static func streamKeyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard let device = parts.first, !device.isEmpty, device.count <= 128, parts.count <= 2 else {
            return "a stream id is <device> or <device>/<channel> (for example \"fake/A1\")"
        }
        if parts.count == 2, AnalogChannel(name: parts[1]) == nil {
            return "\"\(parts[1])\" is not a channel (A0 to A5)"
        }
        return nil
    }

    // MARK: Writing

    /// The settings as pretty JSON, keys sorted; parsing it back gives the same settings.
    public func jsonText() -> String {
        func section(_ name: String, _ entries: [(String, String)]) -> String {
            guard !entries.isEmpty else { return "  \(JSONText.string(name)): {}" }
            return "  \(JSONText.string(name)): {\n" + entries.map { "    \(JSONText.string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n  }"
        }
        var sections = [section("channels", channels.keys.sorted().map { ($0, channels[$0]!.jsonText()) })]
        if !boards.isEmpty { sections.append(section("boards", boards.keys.sorted().map { ($0, boards[$0]!.jsonText()) })) }
        if let corsOrigins { sections.append("  \"cors_origins\": [" + corsOrigins.map(JSONText.string).joined(separator: ", ") + "]") }
        if let mqtt { sections.append("  \"mqtt\": " + mqtt.jsonText()) }
        if !webhooks.isEmpty { sections.append("  \"webhooks\": [" + webhooks.map { $0.jsonText() }.joined(separator: ", ") + "]") }
        return "{\n" + sections.joined(separator: ",\n") + "\n}\n"
    }

    /// One line, for a recording's `settings` event.
    public func compactJSON() -> String {
        var text = "{\"channels\":{" + channels.keys.sorted().map { "\(JSONText.string($0)):\(channels[$0]!.jsonText())" }
            .joined(separator: ",") + "}"
        if !boards.isEmpty {
            text += ",\"boards\":{" + boards.keys.sorted().map { "\(JSONText.string($0)):\(boards[$0]!.jsonText())" }
                .joined(separator: ",") + "}"
        }
        return text + "}"
    }
}

extension ChannelSettings {
    /// `{"name": ..., "unit": ..., "calibration": {...}, "min": ..., "max": ...}` on one line.
    public func jsonText() -> String {
        var fields: [String] = []
        if let name { fields.append("\"name\": \(JSONText.string(name))") }
        fields.append("\"unit\": \(JSONText.string(unit))")
        switch calibration.form {
        case .linear where calibration.isIdentity:
            break
        case .linear:
            fields.append("\"calibration\": {\"scale\": \(JSONText.number(calibration.scale)), \"offset\": \(JSONText.number(calibration.offset))}")
        case .divider(let top, let bottom):
            fields.append("\"calibration\": {\"divider_ohms\": [\(JSONText.number(top)), \(JSONText.number(bottom))]}")
        case .points(let a, let b):
            fields.append("\"calibration\": {\"points\": [[\(JSONText.number(a.pinVolts)), \(JSONText.number(a.value))], [\(JSONText.number(b.pinVolts)), \(JSONText.number(b.value))]]}")
        }
        if let min { fields.append("\"min\": \(JSONText.number(min))") }
        if let max { fields.append("\"max\": \(JSONText.number(max))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func parse(_ value: JSONValue, path: String, issues: inout [ConfigError.Issue]) -> ChannelSettings? {
        guard case .object(let object) = value else {
            issues.append(.init(key: path, message: "must be an object with name, unit, calibration, min, max; not \(value.typeName)"))
            return nil
        }
        let before = issues.count
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            issues.append(.init(key: "\(path).\(key)", message: "unknown key (known: \(knownKeys.joined(separator: ", ")))"))
        }
        var settings = ChannelSettings()
        settings.name = text(object["name"], path: "\(path).name", maxLength: 64, issues: &issues)
        settings.unit = text(object["unit"], path: "\(path).unit", maxLength: 16, issues: &issues) ?? defaultUnit
        settings.min = number(object["min"], path: "\(path).min", issues: &issues)
        settings.max = number(object["max"], path: "\(path).max", issues: &issues)
        if let low = settings.min, let high = settings.max, low >= high {
            issues.append(.init(key: "\(path).max", message: "must be above min (\(JSONText.number(low)))"))
        }
        if let calibration = object["calibration"] {
            settings.calibration = parseCalibration(calibration, path: "\(path).calibration", issues: &issues) ?? .identity
        }
        return issues.count == before ? settings : nil
    }

    private static func parseCalibration(_ value: JSONValue, path: String, issues: inout [ConfigError.Issue]) -> Calibration? {
        let forms = "one of {\"divider_ohms\": [top, bottom]}, {\"scale\": k, \"offset\": b} or {\"points\": [[pin_volts, value], [pin_volts, value]]}"
        guard case .object(let object) = value else {
            issues.append(.init(key: path, message: "must be \(forms)"))
            return nil
        }
        let known = ["divider_ohms", "scale", "offset", "points"]
        for key in object.keys.sorted() where !known.contains(key) {
            issues.append(.init(key: "\(path).\(key)", message: "unknown key; the calibration is \(forms)"))
            return nil
        }
        let given = [object["divider_ohms"] != nil, object["scale"] != nil || object["offset"] != nil, object["points"] != nil]
        guard given.filter({ $0 }).count == 1 else {
            issues.append(.init(key: path, message: "must be \(forms), exactly one of them"))
            return nil
        }
        if let divider = object["divider_ohms"] {
            guard let pair = numbers(divider, count: 2), pair[0] >= 0, pair[1] > 0 else {
                issues.append(.init(key: "\(path).divider_ohms", message: "must be [top, bottom]: the resistor from the input to the pin and the one from the pin to ground, in ohms (bottom above 0)"))
                return nil
            }
            return .divider(topOhms: pair[0], bottomOhms: pair[1])
        }
        if let points = object["points"] {
            guard case .array(let items) = points, items.count == 2,
                  let a = numbers(items[0], count: 2), let b = numbers(items[1], count: 2) else {
                issues.append(.init(key: "\(path).points", message: "must be two [pin_volts, value] pairs"))
                return nil
            }
            guard let line = Calibration.points(.init(pinVolts: a[0], value: a[1]), .init(pinVolts: b[0], value: b[1])) else {
                issues.append(.init(key: "\(path).points", message: "the two pin readings must differ"))
                return nil
            }
            return line
        }
        let scale = number(object["scale"], path: "\(path).scale", issues: &issues) ?? 1
        let offset = number(object["offset"], path: "\(path).offset", issues: &issues) ?? 0
        guard scale != 0 else {
            issues.append(.init(key: "\(path).scale", message: "must not be 0: every reading would be the same value"))
            return nil
        }
        return Calibration(scale: scale, offset: offset)
    }

    private static func numbers(_ value: JSONValue, count: Int) -> [Double]? {
        guard case .array(let items) = value, items.count == count else { return nil }
        let values = items.compactMap(\.numberValue)
        return values.count == count && values.allSatisfy(\.isFinite) ? values : nil
    }

    private static func number(_ value: JSONValue?, path: String, issues: inout [ConfigError.Issue]) -> Double? {
        switch value {
        case nil, .null?: return nil
        case .number(let v)? where v.isFinite && abs(v) <= 1e9: return v
        case let other?:
            issues.append(.init(key: path, message: "must be a number (at most 1e9 in size), not \(other.typeName == "a number" ? JSONText.number(other.numberValue!) : other.typeName)"))
            return nil
        }
    }

    private static func text(_ value: JSONValue?, path: String, maxLength: Int, issues: inout [ConfigError.Issue]) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?:
            guard !s.isEmpty, s.count <= maxLength, s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                issues.append(.init(key: path, message: "must be 1 to \(maxLength) printable characters"))
                return nil
            }
            return s
        case let other?:
            issues.append(.init(key: path, message: "must be a string, not \(other.typeName)"))
            return nil
        }
    }
}
