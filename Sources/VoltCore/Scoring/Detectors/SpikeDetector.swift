/// Spikes and dips: a sample far from the median of the short window, in robust deviations.
///
/// The scale is the window's median absolute deviation (MAD), floored at the learnt
/// ``SignalScale/floor`` so a signal sitting on one ADC step does not make one step of change
/// look infinite. An excursion that persists for two seconds is reported as a level shift:
/// the signal stepped to a new level rather than jumping and returning. A level shift that
/// outlasts `adapt_seconds` is the new normal and is no longer reported, though the window's
/// median takes a half window to follow it. The certainty is capped by how rare such a
/// deviation is on this signal (``Rarity``). An edge (not a jump) back to a level the signal
/// held in the last half hour is the signal coming back, not news (``RecentLevels``).
struct SpikeDetector: Sendable {
    private var window: SortedWindow
    private let warmup: Int
    private let threshold: Double
    private var rarity: Rarity
    private let rarityDecades: Double
    private let adaptSamples: Int
    /// Consecutive samples deviating beyond the threshold in one direction (+ up, - down).
    private var excursion = 0
    /// Samples after which a persisting excursion counts as a level shift.
    private let shiftSamples: Int
    private let sampleRate: Double
    private let enabled: AnomalyKinds
    /// Where the window's median has been lately: an edge going back there is not news.
    private var levels: RecentLevels

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        sampleRate = config.sampleRate
        enabled = config.enabledKinds
        window = SortedWindow(capacity: config.windowSize)
        warmup = max(5, config.windowSize / 2)
        threshold = config.spikeMADs
        rarity = Rarity(config: config, shares: true)
        rarityDecades = config.rarityBarDecades
        adaptSamples = config.adaptSamples
        shiftSamples = max(3, Int((2 * config.sampleRate).rounded()))
        levels = RecentLevels(sampleRate: config.sampleRate, carrySamples: config.windowSize, spikeMADs: config.spikeMADs)
    }

    var fill: Double { min(1, Double(window.count) / Double(warmup)) }

    /// `daily`: what earlier days say about this moment; a jump the signal made at this time
    /// on earlier days too (within the usual daily scatter) is its rhythm, not news.
    /// `dailyVariation`: the upper quartile of |Δ| at this time on earlier days; the window's
    /// MAD is taken at least as large as such variation implies (0.41 of it for Gaussian
    /// noise), so the first minutes of a daily noisy spell are not read against the calm
    /// before it.
    /// Returns whether the rule calls this sample a spike or dip (before the rarity test), for
    /// ``SpikeRateDetector``.
    mutating func observe(_ x: Double, scale: SignalScale, daily: SeasonalDetector.Expectation?, dailyVariation: Double?,
                          into verdict: inout Verdict) -> Bool {
        defer { window.push(x) }
        guard window.count >= warmup, scale.isKnown else { return false }
        let median = window.median
        defer { levels.add(median) }
        let mad = max(window.medianAbsoluteDeviation(around: median), scale.floor, 0.41 * (dailyVariation ?? 0))
        let deviations = (x - median) / mad
        var raw = abs(deviations) / threshold
        if let daily { raw = min(raw, daily.departure(of: x)) }
        // Big by the rule, whether or not rare: what SpikeRateDetector counts.
        let spiked = raw >= 1
        var c = rarity.certainty(raw, decades: rarityDecades)
        // Light, and what it feeds, changes by shares: a passing cloud takes half of whatever
        // the panel makes, so its edges grow with the sun and each is a record in MADs. A
        // deviation that built up over more than two samples (an edge, not a jump) must also
        // be rare as a share of the level among the peaks of earlier excursions: of the level
        // above the lowest the signal has had (a panel's night), taking the larger of the
        // window's median and the sample, so an edge up and an edge down weigh the same. A
        // jump is judged in MADs alone, as before. On a line at a steady level the two
        // measures rank deviations alike, and at minutes per sample almost every change is a
        // jump, so this quiets weather on fast lines whose level moves.
        let share = spiked ? Rarity.share(of: x, from: median, lowest: scale.lowest, certain: threshold * mad) : 0
        // The window holds the samples before this one: back(1) is two samples ago.
        if c >= 1, let before = window.back(1), 2 * abs(x - before) < abs(x - median) {
            let f = rarity.shareSurprise(share, assumedHistory: Rarity.assumedHistory(decades: rarityDecades)) / rarityDecades
            if f < 1 { c = min(c, 1) * f }
        }
        let beyond: RecentLevels.Beyond?
        (c, beyond) = levels.judge(c, x: x, median: median, mad: mad, startsExcursion: excursion == 0, before: window.back(2))
        rarity.learn(raw, share: share)
        if c >= 1 {
            let up = deviations > 0
            excursion = up ? max(1, excursion + 1) : min(-1, excursion - 1)
        } else {
            excursion = 0
        }
        let persisted = abs(excursion) > shiftSamples
        // A level that has held for adapt_seconds is the new normal.
        if abs(excursion) > max(adaptSamples, shiftSamples) { return false }
        let kind: AnomalyKind = persisted ? .levelShift : (deviations > 0 ? .spike : .dip)
        guard enabled.contains(kind) else { return spiked && !persisted }
        let seconds = Double(window.count) / sampleRate
        verdict.add(kind, certainty: c) {
            let side = deviations > 0 ? "above" : "below"
            if let beyond {
                return "\(kind.rawValue): \(FixedPoint.format(x)) \(unit) is \(side) the levels of the last \(FixedPoint.format(RecentLevels.horizonSeconds / 60, digits: 0)) min (\(FixedPoint.format(beyond.levels.lowerBound))–\(FixedPoint.format(beyond.levels.upperBound)) \(unit)), in an edge of \(FixedPoint.format(beyond.deviations, digits: 0)) MADs"
            }
            if kind == .levelShift {
                return "level_shift: \(FixedPoint.format(x)) \(unit) has stayed \(FixedPoint.format(abs(deviations), digits: 0)) MADs \(side) the \(FixedPoint.format(seconds, digits: 0)) s median \(FixedPoint.format(median)) \(unit) for \(FixedPoint.format(Double(abs(excursion)) / sampleRate, digits: 1)) s"
            }
            return "\(kind.rawValue): \(FixedPoint.format(x)) \(unit) is \(FixedPoint.format(abs(deviations), digits: 0)) MADs \(side) the \(FixedPoint.format(seconds, digits: 0)) s median \(FixedPoint.format(median)) \(unit)"
        }
        return spiked && !persisted
    }
}
