/// Bands of the anomaly score, for people: a phone shows `critical` red and `watch` amber.
public enum Severity: String, Sendable, CaseIterable, Codable, Comparable, CustomStringConvertible {
    /// Below the watch band.
    case normal
    /// Elevated but below the alarm threshold.
    case watch
    /// At or above `anomaly_threshold`: an anomaly.
    case warning
    /// At or above the critical band.
    case critical

    public var description: String { rawValue }

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Where the score's bands begin, as the configuration sets them. The scorer reads them for
/// every result, so it keeps these three numbers rather than the whole configuration (passing
/// that to the result's constructor copied it, 224 bytes and its arrays, on every sample).
struct SeverityBands: Sendable, Equatable {
    /// The lowest `watch` score (`watch_threshold`).
    let watch: Double
    /// The lowest `warning` score: `anomaly_threshold`, where anomalies begin.
    let warning: Double
    /// The lowest `critical` score (`critical_threshold`).
    let critical: Double

    func severity(for score: Double) -> Severity {
        if score >= critical { return .critical }
        if score >= warning { return .warning }
        if score >= watch { return .watch }
        return .normal
    }
}
