#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import VoltCore

/// Flags a sample far from the last few an app sent, from the fourth sample on: what the
/// original backend's rules did for `voltage_data` (9.9 V after three samples of 2.5 V is an
/// anomaly). It scores beside the device scorer throughout, the higher verdict winning: the
/// device scorer learns its scale from how a signal moves, and hand-typed samples (a steady
/// 1.0 V, then 3.0 V) may never move enough to teach it one.
///
/// "Far" is measured from the median of the last ``capacity`` samples, in a scale that is the
/// larger of six robust deviations (1.4826 · MAD), a quarter of the median's size and 0.5 V:
/// a few hand-typed samples have almost no spread, and a scale made from spread alone would
/// flag 2.6 V after three samples of 2.5 V. A deviation of one scale scores exactly
/// `anomaly_threshold`, through the same curve as the device scorer (1 − e^(−k·c²)).
/// Pure and bounded: a fixed ring of samples.
struct FewSamplesRule {
    /// Samples kept.
    static let capacity = 16
    /// Samples needed before anything is flagged.
    static let minimumSamples = 3
    static let minimumScaleVolts = 0.5
    static let relativeScale = 0.25
    static let deviations = 6.0

    private var ring: [Double] = []
    private var next = 0
    private let threshold: Double
    private let enabled: (up: Bool, down: Bool)

    init(config: ModelConfig) {
        threshold = config.anomalyThreshold
        enabled = (config.isEnabled(.spike), config.isEnabled(.dip))
        ring.reserveCapacity(Self.capacity)
    }

    struct Verdict: Equatable {
        var anomalyScore: Double
        var isAnomaly: Bool
        var confidence: Double
        var kinds: AnomalyKinds
        var reasons: [String]
    }

    /// Scores `volts` against the samples before it, then remembers it; nil until
    /// ``minimumSamples`` came before.
    mutating func score(_ volts: Double) -> Verdict? {
        defer { push(volts) }
        guard ring.count >= Self.minimumSamples else { return nil }
        let sorted = ring.sorted()
        let median = Self.median(sorted)
        let mad = Self.median(sorted.map { abs($0 - median) }.sorted())
        let scale = max(Self.deviations * 1.4826 * mad, Self.relativeScale * abs(median), Self.minimumScaleVolts)
        let c = abs(volts - median) / scale
        let up = volts > median
        guard up ? enabled.up : enabled.down else { return nil }
        // c = 1 scores the threshold: k = ln(1 / (1 − threshold)).
        let k = -log1p(-min(threshold, 0.999_999))
        let score = -expm1(-k * c * c)
        let isAnomaly = score >= threshold
        let margin = isAnomaly ? (score - threshold) / max(1 - threshold, 1e-9) : (threshold - score) / max(threshold, 1e-9)
        let warmth = Double(ring.count) / Double(Self.capacity)
        var verdict = Verdict(anomalyScore: score, isAnomaly: isAnomaly,
                              confidence: warmth * (0.5 + 0.5 * min(1, max(0, margin))), kinds: [], reasons: [])
        if isAnomaly {
            let kind: AnomalyKind = up ? .spike : .dip
            verdict.kinds = [kind]
            verdict.reasons = ["\(kind.rawValue): \(FixedPoint.format(volts)) V is \(FixedPoint.format(abs(volts - median), digits: 2)) V "
                + "\(up ? "above" : "below") the median \(FixedPoint.format(median)) V of the last \(ring.count) app samples "
                + "(scale \(FixedPoint.format(scale, digits: 2)) V)"]
        }
        return verdict
    }

    private mutating func push(_ volts: Double) {
        if ring.count < Self.capacity {
            ring.append(volts)
        } else {
            ring[next] = volts
        }
        next = (next + 1) % Self.capacity
    }

    private static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
