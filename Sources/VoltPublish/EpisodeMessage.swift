public import VoltCore

/// One alarm episode's start or end as published on `<prefix>/<stream>/anomaly` and POSTed to
/// webhooks: the episode as `GET /api/anomalies` lists it, plus `event` and the stream's name
/// and unit.
public struct EpisodeMessage: Sendable, Equatable {
    public enum Event: String, Sendable { case start, end }

    public var event: Event
    public var device: String
    public var episode: AlarmEpisode
    /// The reading and severity of the result with the highest score so far.
    public var peakVoltage: Double?
    public var severity: Severity
    public var name: String?
    public var unit: String?

    public init(event: Event, device: String, episode: AlarmEpisode, peakVoltage: Double?, severity: Severity,
                name: String? = nil, unit: String? = nil) {
        self.event = event
        self.device = device
        self.episode = episode
        self.peakVoltage = peakVoltage
        self.severity = severity
        self.name = name
        self.unit = unit
    }

    var kindNames: [String] { AnomalyKind.allCases.filter { episode.kinds.contains($0) }.map(\.rawValue) }

    static func seconds(_ ms: Int64) -> String { JSONText.number(Double(ms) / 1000) }

    /// One line of JSON.
    public var json: String {
        var out = "{\"event\":\"\(event.rawValue)\",\"device\":\(JSONText.string(device)),\"id\":\(episode.id)"
        out += ",\"start\":\(Self.seconds(episode.startMs)),\"end\":\(Self.seconds(episode.endMs))"
        out += ",\"duration_seconds\":\(Self.seconds(episode.durationMs)),\"peak_score\":\(JSONText.number(episode.peakScore))"
        out += ",\"peak_voltage\":" + (peakVoltage.map(JSONText.number) ?? "null")
        out += ",\"severity\":\"\(severity.rawValue)\",\"kinds\":[" + kindNames.map(JSONText.string).joined(separator: ",") + "]"
        out += ",\"reasons\":[" + episode.reasons.map(JSONText.string).joined(separator: ",") + "]"
        out += ",\"samples\":\(episode.samples),\"open\":\(episode.isOpen)"
        out += ",\"name\":" + (name.map(JSONText.string) ?? "null") + ",\"unit\":" + (unit.map(JSONText.string) ?? "null") + "}"
        return out
    }

    /// `template` with its placeholders replaced. Each value is inserted as JSON string
    /// content (escaped, without quotes), so `"{reasons}"` inside a JSON template stays valid
    /// JSON; `{peak}`, `{start}`, `{end}`, `{id}` are plain numbers.
    public func render(_ template: String) -> String {
        func inner(_ text: String) -> String { String(JSONText.string(text).dropFirst().dropLast()) }
        let values: [String: String] = [
            "device": inner(device),
            "name": inner(name ?? device),
            "kinds": inner(kindNames.joined(separator: ", ")),
            "severity": severity.rawValue,
            "reasons": inner(episode.reasons.joined(separator: "; ")),
            "start": Self.seconds(episode.startMs),
            "end": Self.seconds(episode.endMs),
            "peak": peakVoltage.map(JSONText.number) ?? "null",
            "score": JSONText.number(episode.peakScore),
            "event": event.rawValue,
            "id": String(episode.id),
            "unit": inner(unit ?? "V"),
        ]
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
                out += value
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }
}
