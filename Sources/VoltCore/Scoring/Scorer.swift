#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scores every sample of one device against windows of its own recent past.
///
/// A value type with fixed-capacity buffers allocated at init: scoring a sample does O(1)
/// work (bounded by the configured window sizes) and allocates nothing unless it explains an
/// anomaly in words. Same samples in, same results out: there is no clock and no randomness.
public struct Scorer: Sendable {
    public let config: ModelConfig

    /// Frames missing according to `seq`, since init.
    public private(set) var lostFrames = 0
    /// Samples scored since init.
    public private(set) var samplesSeen = 0

    private var short: SortedWindow
    private var lastTimeMs: Int64?
    private var lastSeq: UInt32?
    private var lastValue: Double?
    private var sameRun = 0
    private let warmupSamples: Int
    private let stuckSamples: Int
    /// ln(1 / (1 - 0.7)): maps certainty 1 to a score of 0.7, the shipped threshold.
    private static let scoreSteepness = 1.2039728043259361

    public init(config: ModelConfig) {
        self.config = config
        self.short = SortedWindow(capacity: config.windowSize)
        self.warmupSamples = max(5, config.windowSize / 2)
        self.stuckSamples = max(3, Int((config.stuckSeconds * config.sampleRate).rounded(.up)))
    }

    /// The board rebooted (a `$HELLO`): forget `seq` continuity, keep the statistics.
    public mutating func restart() {
        lastSeq = nil
    }

    /// Forgets everything learnt, as after init.
    public mutating func reset() {
        self = Scorer(config: config)
    }

    /// Maps a detector's certainty (its statistic over its threshold; 1 means "certainly an
    /// anomaly") to a score in [0, 1): 1 − e^(−k·c²), with k chosen so that c = 1 scores 0.7.
    /// The map is fixed, so lowering `anomaly_threshold` really does make the scorer more
    /// sensitive, and scores near 1 keep their resolution for threshold sweeps.
    static func score(certainty c: Double) -> Double {
        guard c > 0 else { return 0 }
        return -expm1(-scoreSteepness * c * c)
    }

    public mutating func score(_ sample: Sample) -> ScoredResult {
        samplesSeen += 1
        var verdict = Verdict()
        let x = sample.volts
        let t = sample.receivedAtMs

        // Dropout: a gap in time longer than the timeout.
        if let lastTimeMs, config.isEnabled(.dropout) {
            let gap = Double(t - lastTimeMs)
            let timeout = config.dropoutTimeoutMs
            if gap > timeout {
                verdict.add(.dropout, certainty: 1 + (gap - timeout) / timeout) {
                    "dropout: no sample for \(FixedPoint.format(gap / 1000, digits: 1)) s (timeout \(FixedPoint.format(timeout / 1000, digits: 1)) s)"
                }
            }
        }
        lastTimeMs = t

        // Lost frames: a forward jump in seq.
        if let seq = sample.seq {
            if let lastSeq {
                let jump = seq &- lastSeq
                if jump > 1 && jump < 1 << 31 {
                    let lost = Int(jump - 1)
                    lostFrames += lost
                    if config.isEnabled(.lostFrames) {
                        verdict.add(.lostFrames, certainty: 1 + Double(lost) / 10) {
                            "lost_frames: seq jumped from \(lastSeq) to \(seq), \(lost) frame\(lost == 1 ? "" : "s") lost"
                        }
                    }
                }
            }
            lastSeq = seq
        }

        // Out of range: configured hard limits.
        if config.isEnabled(.outOfRange) {
            if let high = config.maxVolts, x > high {
                verdict.add(.outOfRange, certainty: 1 + (x - high) / max(abs(high), 0.1)) {
                    "out_of_range: \(FixedPoint.format(x)) V is above the \(FixedPoint.format(high)) V limit"
                }
            } else if let low = config.minVolts, x < low {
                verdict.add(.outOfRange, certainty: 1 + (low - x) / max(abs(low), 0.1)) {
                    "out_of_range: \(FixedPoint.format(x)) V is below the \(FixedPoint.format(low)) V limit"
                }
            }
        }

        // Spike and dip: robust deviation from the short-window median.
        if short.count >= warmupSamples {
            let median = short.median
            let mad = max((short.quantile(0.75) - short.quantile(0.25)) / 2, config.minNoiseVolts)
            let deviations = (x - median) / mad
            let c = abs(deviations) / config.spikeMADs
            let kind: AnomalyKind = deviations > 0 ? .spike : .dip
            if config.isEnabled(kind) {
                verdict.add(kind, certainty: c) {
                    "\(kind.rawValue): \(FixedPoint.format(x)) V is \(FixedPoint.format(abs(deviations), digits: 0)) MADs \(deviations > 0 ? "above" : "below") the \(FixedPoint.format(Double(short.count) / config.sampleRate, digits: 0)) s median \(FixedPoint.format(median)) V"
                }
            }
        }

        // Stuck: the very same value for too long.
        if let lastValue, lastValue == x { sameRun += 1 } else { sameRun = 1 }
        lastValue = x
        if sameRun >= stuckSamples && config.isEnabled(.stuck) {
            let run = sameRun
            verdict.add(.stuck, certainty: Double(run) / Double(stuckSamples)) {
                "stuck: \(FixedPoint.format(x)) V unchanged for \(run) samples (\(FixedPoint.format(Double(run) / config.sampleRate, digits: 1)) s)"
            }
        }

        short.push(x)

        let warm = min(1, Double(short.count) / Double(warmupSamples))
        return verdict.result(for: sample, config: config, warmth: warm)
    }
}

/// Collects detector outcomes for one sample. Reasons are built lazily, only for detectors
/// that fire, so a normal sample costs no allocation.
struct Verdict {
    private(set) var score = 0.0
    private(set) var kinds = AnomalyKinds()
    private(set) var reasons: [String] = []

    mutating func add(_ kind: AnomalyKind, certainty: Double, reason: () -> String) {
        let s = Scorer.score(certainty: certainty)
        if s > score { score = s }
        if certainty >= 1 {
            kinds.insert(kind)
            reasons.append(reason())
        }
    }

    func result(for sample: Sample, config: ModelConfig, warmth: Double) -> ScoredResult {
        let isAnomaly = score >= config.anomalyThreshold
        let threshold = config.anomalyThreshold
        let margin = isAnomaly ? (score - threshold) / max(1 - threshold, 1e-9) : (threshold - score) / max(threshold, 1e-9)
        let confidence = warmth * (0.5 + 0.5 * min(1, max(0, margin)))
        return ScoredResult(
            anomalyScore: score,
            isAnomaly: isAnomaly,
            confidence: confidence,
            timestampMs: sample.receivedAtMs,
            voltage: sample.volts,
            seq: sample.seq,
            severity: config.severity(for: score),
            kinds: isAnomaly ? kinds : [],
            reasons: isAnomaly ? reasons : []
        )
    }
}
