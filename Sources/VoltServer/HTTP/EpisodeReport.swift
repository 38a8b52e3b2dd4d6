import VoltCore

/// `GET /api/anomalies`: the recent alarm episodes, newest onset first (DESIGN.md "Results").
struct AnomaliesReport: Encodable, Sendable {
    var count: Int
    var anomalies: [EpisodeReport]
}

/// One alarm episode as the API reports it.
struct EpisodeReport: Encodable, Sendable {
    var device: String
    /// The id the episode's results carry in their `episode` field.
    var id: UInt64
    /// The first and the latest anomalous result's timestamps, epoch seconds.
    var start: Double
    var end: Double
    var durationSeconds: Double
    var peakScore: Double
    /// Voltage and severity of the result with the highest score.
    var peakVoltage: Double?
    var severity: String
    var kinds: [String]
    var reasons: [String]
    var samples: Int
    var open: Bool

    enum CodingKeys: String, CodingKey {
        case device, id, start, end, severity, kinds, reasons, samples, open
        case durationSeconds = "duration_seconds"
        case peakScore = "peak_score"
        case peakVoltage = "peak_voltage"
    }

    init(_ entry: EpisodeList.Entry) {
        let e = entry.episode
        device = entry.device
        id = e.id
        start = Double(secondsFromMilliseconds: e.startMs)
        end = Double(secondsFromMilliseconds: e.endMs)
        durationSeconds = Double(secondsFromMilliseconds: e.durationMs)
        peakScore = e.peakScore
        peakVoltage = entry.peakVoltage.isNaN ? nil : entry.peakVoltage
        severity = entry.peakSeverity.rawValue
        kinds = AnomalyKind.allCases.filter { e.kinds.contains($0) }.map(\.rawValue)
        reasons = e.reasons
        samples = e.samples
        open = e.isOpen
    }
}
