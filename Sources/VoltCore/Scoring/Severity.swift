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
