#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scores every sample of one device against windows of its own recent past.
///
/// Each kind of misbehaviour has its own detector; each turns its statistic into a certainty
/// (1 means "certainly an anomaly") and the sample's score is the highest of them. Detectors
/// hold fixed-capacity buffers allocated at init, so scoring a sample does bounded work and
/// allocates nothing unless it explains an anomaly in words. Same samples in, same results
/// out: there is no clock and no randomness.
public struct Scorer: Sendable {
    public let config: ModelConfig
    /// The stream's settings (unit, limits), if it has any.
    public let channel: ChannelSettings?

    /// Samples scored since init.
    public private(set) var samplesSeen = 0
    /// The highest certainty of the alarm in progress, or nil between alarms.
    private var episodePeak: Double?
    /// Samples since the last anomalous one.
    private var sinceAlarm = 0

    /// The certainty at which the score reaches `anomaly_threshold`.
    private let alarmCertainty: Double
    /// The configuration's severity bands, kept apart from it: read for every result.
    private let bands: SeverityBands
    private var scale: SignalScale
    private var gaps: GapDetector
    private let range: RangeDetector
    private var spikes: SpikeDetector
    private var spikeRate: SpikeRateDetector
    private var records: RecordDetector
    private var stuck: StuckDetector
    private var noise: NoiseDetector
    private var drift: DriftDetector
    private var daily: SeasonalDetector

    /// ln(1 / (1 - 0.7)): maps certainty 1 to a score of 0.7, the shipped threshold.
    private static let scoreSteepness = 1.2039728043259361

    /// `channel`: the stream's settings, whose unit the reasons speak and whose limits
    /// replace `min_volts`/`max_volts` (they are in the channel's unit, as the samples are).
    public init(config: ModelConfig, channel: ChannelSettings? = nil) {
        self.config = config
        self.channel = channel
        let unit = channel?.unit ?? ChannelSettings.defaultUnit
        var limits = config
        if let channel, channel.min != nil || channel.max != nil {
            limits.minVolts = channel.min
            limits.maxVolts = channel.max
        }
        alarmCertainty = Scorer.certainty(forScore: config.anomalyThreshold)
        bands = config.severityBands
        scale = SignalScale(config: config)
        gaps = GapDetector(config: config)
        range = RangeDetector(config: limits, unit: unit)
        spikes = SpikeDetector(config: config, unit: unit)
        spikeRate = SpikeRateDetector(config: config)
        records = RecordDetector(config: config, unit: unit)
        stuck = StuckDetector(config: config, unit: unit)
        noise = NoiseDetector(config: config, unit: unit)
        drift = DriftDetector(config: config, unit: unit)
        daily = SeasonalDetector(config: config, unit: unit)
    }

    /// Frames missing according to `seq`, since init.
    public var lostFrames: Int { gaps.lostFrames }

    /// The board rebooted (a `$HELLO`): forget `seq` continuity, keep the statistics.
    public mutating func restart() {
        gaps.restart()
    }

    /// Forgets everything learnt, as after init.
    public mutating func reset() {
        self = Scorer(config: config, channel: channel)
    }

    /// Maps a detector's certainty to a score in [0, 1): 1 − e^(−k·c²) up to c = 1, with k
    /// chosen so that c = 1 scores 0.7, then 1 − 0.3/c², which never reaches 1 in double
    /// precision for any certainty a detector reports. The map is fixed, so lowering
    /// `anomaly_threshold` really does make the scorer more sensitive, and strong anomalies
    /// keep distinct scores (a threshold sweep can still tell a 5 from a 50).
    static func score(certainty c: Double) -> Double {
        guard c > 0 else { return 0 }
        if c <= 1 { return -expm1(-scoreSteepness * c * c) }
        return 1 - 0.3 / (c * c)
    }

    /// The inverse of ``score(certainty:)``.
    static func certainty(forScore s: Double) -> Double {
        guard s > 0 else { return 0 }
        guard s < 1 else { return .infinity }
        if s <= 0.7 { return (-log1p(-s) / scoreSteepness).squareRoot() }
        return (0.3 / (1 - s)).squareRoot()
    }

    /// `label`: what the result carries of its stream (``SignalStream/label``). It is set as
    /// the result is made: set on the returned result, it cost one more copy of the whole
    /// result, reasons retained and released, on every sample.
    public mutating func score(_ sample: Sample, label: StreamLabel? = nil) -> ScoredResult {
        samplesSeen += 1
        var verdict = Verdict(alarmCertainty: alarmCertainty)
        let x = sample.volts
        gaps.observe(sample, into: &verdict)
        range.observe(x, into: &verdict)
        let expected = daily.observe(x, timeMs: sample.receivedAtMs, scale: scale, into: &verdict)
        let spiked = spikes.observe(x, scale: scale, daily: expected, dailyVariation: noise.expectedLevel, into: &verdict)
        spikeRate.observe(spike: spiked, into: &verdict)
        records.observe(x, timeMs: sample.receivedAtMs, scale: scale, into: &verdict)
        stuck.observe(x, into: &verdict)
        noise.observe(x, timeMs: sample.receivedAtMs, scale: scale, into: &verdict)
        drift.observe(x, disturbed: verdict.isAnomalous, scale: scale, daily: expected, into: &verdict)
        scale.observe(x)
        // Trust grows as the short windows fill, then as the long ones do.
        let warmth = 0.6 * min(spikes.fill, noise.fill) + 0.4 * drift.fill
        // Inside an alarm, a sample that says nothing new (no more than twice the alarm's
        // peak so far) stays an anomaly but scores just above the threshold: the score ranks
        // news, so a sweep over thresholds (or a person sorting by score) sees each alarm's
        // onset and escalations, not every sample of a fault that lasts an hour.
        // The alarm's peak is remembered for one window after it ends, so an alarm that
        // flickers (a noise burst, a cluster of spikes) is news once, not at every flicker.
        var reported = verdict.certainty
        if verdict.isAnomalous {
            sinceAlarm = 0
            if let peak = episodePeak, verdict.certainty <= 2 * peak {
                // Still ranked by certainty, but bounded: within a thousandth above the bar.
                reported = alarmCertainty * (1 + 0.001 * (1 - alarmCertainty / verdict.certainty))
            } else {
                episodePeak = verdict.certainty
            }
        } else {
            sinceAlarm += 1
            if sinceAlarm > config.windowSize { episodePeak = nil }
        }
        return verdict.result(for: sample, label: label, bands: bands, warmth: warmth, reportedCertainty: reported)
    }
}

/// Collects detector outcomes for one sample. Reasons are built lazily, only for detectors
/// that fire, so a normal sample costs no allocation.
struct Verdict {
    /// The highest certainty any detector reported; the score is computed from it once, at
    /// the end (the certainty-to-score map is monotonic, and `expm1` per detector per sample
    /// would cost more than the detectors).
    private(set) var certainty = 0.0
    private(set) var kinds = AnomalyKinds()
    private(set) var reasons: [String] = []
    /// Certainty at which the score reaches the threshold, so detectors can ask "already
    /// anomalous?" without computing a score.
    let alarmCertainty: Double

    init(alarmCertainty: Double) {
        self.alarmCertainty = alarmCertainty
    }

    var isAnomalous: Bool { certainty >= alarmCertainty }

    var score: Double { Scorer.score(certainty: certainty) }

    mutating func add(_ kind: AnomalyKind, certainty: Double, reason: () -> String) {
        if certainty > self.certainty { self.certainty = certainty }
        if certainty >= 1 {
            kinds.insert(kind)
            reasons.append(reason())
        }
    }

    /// A fault that is a state (dropout, stuck, out_of_range, lost_frames) is a fact, not a
    /// judgement of how unusual the signal is: once its detector is certain (certainty 1 or
    /// more), it alarms at any `anomaly_threshold`, the thousandth silence of a flaky cable as
    /// much as the first. Above the shipped threshold its certainty is scaled by the bar, so
    /// faults keep their order among themselves (a long silence above a short one); at or below
    /// it (the bar is 1 or less) nothing changes.
    mutating func addState(_ kind: AnomalyKind, certainty: Double, reason: () -> String) {
        add(kind, certainty: certainty >= 1 ? certainty * max(1, alarmCertainty) : certainty, reason: reason)
    }

    func result(for sample: Sample, label: StreamLabel?, bands: SeverityBands, warmth: Double, reportedCertainty: Double) -> ScoredResult {
        let threshold = bands.warning
        let isAnomaly = isAnomalous
        var score = Scorer.score(certainty: reportedCertainty)
        // Rounding in the certainty-to-score map must not move a sample across the threshold.
        score = isAnomaly ? max(score, threshold) : min(score, threshold.nextDown)
        // Decisiveness: how far the score sits from the threshold, on the side it is on.
        let margin = isAnomaly ? (score - threshold) / max(1 - threshold, 1e-9) : (threshold - score) / max(threshold, 1e-9)
        let confidence = min(1, max(0, warmth)) * (0.5 + 0.5 * min(1, max(0, margin)))
        var kinds = AnomalyKinds()
        var reasons: [String] = []
        if isAnomaly {
            kinds = self.kinds
            reasons = self.reasons
            if kinds.isEmpty {
                // Below certainty 1 on every detector but above a lowered threshold: name the
                // strongest contributor anyway, so an alarm always says why.
                reasons = ["score \(FixedPoint.format(score, digits: 3)) is above the threshold \(FixedPoint.format(threshold, digits: 3))"]
            }
        }
        var result = ScoredResult(
            anomalyScore: score,
            isAnomaly: isAnomaly,
            confidence: confidence,
            timestampMs: sample.receivedAtMs,
            voltage: sample.volts,
            seq: sample.seq,
            severity: bands.severity(for: score),
            kinds: kinds,
            reasons: reasons
        )
        result.adcRaw = sample.adcRaw
        result.pinVolts = sample.pinVolts
        result.label = label
        return result
    }
}
