/// A sudden jump beyond anything the signal has ever done: above its highest value or below
/// its lowest, by a twentieth of its whole range at once.
///
/// The short-window detectors judge a sample against the last minutes, and discount what the
/// signal does routinely; a signal with heavy tails (a server's latency, a machine's
/// temperature) makes a spike of 10 MADs routine, so a failure that shows as one more jump of
/// that size is missed. Its whole history says more: a battery above the highest voltage it
/// ever had (a charger gone wrong), a latency below the lowest it ever had (a service that
/// answers nothing), a room warmer than any day since it was first logged. This is
/// `min_volts` and `max_volts` learnt from the signal itself, scale-free, for a user who set
/// no limits.
///
/// Only a *jump* counts: the record moves with every sample, and the sample must pass it by
/// twice the signal's usual sample-to-sample scatter too, so a slow trend that sets a new high
/// every day with its noise peaks is not news (by the range alone, a battery rising 0.1 V a
/// day under 20 mV of noise set a "record" about once a day), and a new level that stays is
/// the new record (alarmed at its onset only). The range must have been seen for a day (its
/// daily rhythm) and four windows of samples first. Reported as `spike` or
/// `dip` (the direction of the jump), judged for rarity like the other learnt detectors. The records
/// themselves are the stream's (``SignalScale/lowest``, ``SignalScale/highest``); state here:
/// the first time, a count and a rarity histogram.
struct RecordDetector: Sendable {
    /// How far beyond the record, as a fraction of the range, makes a jump certain (before
    /// rarity).
    static let margin = 0.05
    /// How far beyond the record, in the signal's usual scatter (``SignalScale/sigma``), a
    /// sample must be to be a jump rather than noise on a trend.
    static let scatter = 2.0

    private var firstMs: Int64?
    private var seen = 0
    private let minimumSamples: Int
    private var rarity: Rarity
    private let rarityDecades: Double
    private let enabled: AnomalyKinds

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        enabled = config.enabledKinds
        minimumSamples = 4 * config.windowSize
        rarity = Rarity(config: config)
        rarityDecades = config.rarityBarDecades
    }

    mutating func observe(_ x: Double, timeMs: Int64, scale: SignalScale, into verdict: inout Verdict) {
        guard x.isFinite else { return }
        // The records so far, not counting this sample.
        let lowest = scale.lowest, highest = scale.highest
        seen += 1
        let first = firstMs ?? timeMs
        firstMs = first
        let range = highest - lowest
        guard seen > minimumSamples, timeMs - first >= SeasonalDetector.dayMs, range > 0 else { return }
        let above = x - highest
        let below = lowest - x
        let raw = max(above, below) / max(Self.margin * range, Self.scatter * scale.sigma)
        let c = rarity.certainty(raw, decades: rarityDecades)
        rarity.learn(max(raw, 0))
        let kind: AnomalyKind = above > 0 ? .spike : .dip
        guard raw > 0, enabled.contains(kind) else { return }
        verdict.add(kind, certainty: c) {
            let days = Double(timeMs - first) / Double(SeasonalDetector.dayMs)
            let side = above > 0 ? "above the highest" : "below the lowest"
            let record = above > 0 ? highest : lowest
            return "\(kind.rawValue): \(FixedPoint.format(x)) \(unit) is \(side) value in \(FixedPoint.format(days, digits: 1)) days (\(FixedPoint.format(record)) \(unit)) by \(FixedPoint.format(100 * max(above, below) / range, digits: 0)) % of its range"
        }
    }
}
