#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How unusual a detector's statistic is for this signal: the tail probability of the
/// current value against the statistic's own running distribution (as HTM's anomaly
/// likelihood does for its raw scores).
///
/// A detector's certainty says "by my rule, this is big"; a signal whose own rhythm keeps
/// producing such values (a square wave's daily edges, a bursty sensor) makes that rule cry
/// wolf. The distribution is a histogram over log₂(certainty) in half-octave bins, with
/// exponential forgetting over `horizon` samples, so it follows a signal that changes and
/// its state is fixed (48 doubles). Every sample is learnt, anomalous or not: what keeps
/// recurring is by definition normal. The surprise is −log₁₀ of the tail probability, with a
/// tenth of a pseudo-observation, over a history taken to be at least three times 10^decades
/// samples long: until the scorer has seen that much, it assumes the time before it started
/// was quiet, so the first events after start are judged on what it has seen, not declared
/// routine because the history is short.
///
/// ``certainty(_:decades:)`` combines the two: an alarm needs a statistic that is big by the
/// detector's rule *and* rare on this signal (surprise of at least `rarity_decades`). A value
/// the signal produces routinely is scaled down below certainty, however big it is.
///
/// On a fast line the history is an hour, so that faults ten minutes apart stay news; then a
/// second histogram keeps the alarms of the last four days (the rhythm's memory), and an alarm
/// it holds at least ``habitCount`` times is the signal's habit, however rare in the last
/// hour. Clouds come all day over a panel on a broken day and a few times on a clear one; a
/// clear day's cloud is no news to a panel that saw a hundred of them yesterday. (On a slow line the
/// history is already longer than four days, and the second histogram is not kept.)
struct Rarity: Sendable {
    static let bins = 48
    /// log₂ of the lower edge of bin 0; smaller certainties are only counted in the total.
    static let lowestLog2 = -4.0
    static let binsPerOctave = 2.0
    /// The fraction bits of √2's significand (1.4142135623730951).
    static let sqrt2FractionBits: UInt64 = 0x6_A09E_667F_3BCD

    private var counts: [Double]
    /// Decayed sample count, in units of ``weight``.
    private var total = 0.0
    /// The weight the next sample gets; grows by 1/(1 − α) per sample, which is the same as
    /// shrinking every older count by (1 − α), without touching them.
    private var weight = 1.0
    private let growth: Double
    /// The highest certainty of the excursion in progress (0 when none).
    private var excursionPeak = 0.0
    /// The same histogram over the longer `habitHorizon`; empty when that is no longer than
    /// the history.
    private var habit: [Double]
    /// The weight the habit gives the next sample is `habitBase` × weight^`habitExponent`:
    /// both decay per sample, so the habit's weight follows from the history's and costs
    /// nothing per sample; it is computed only when the habit is written or read.
    private var habitBase = 1.0
    private let habitExponent: Double
    /// A value held this many times in the last four days is a habit (``ModelConfig/habitCount``).
    static let habitCount = Double(ModelConfig.habitCount)
    /// A second statistic of the same excursions (the deviation as a share of the level, for
    /// ``SpikeDetector``'s edges and ``SeasonalDetector``'s departures), histogrammed at their
    /// peaks in the same history; empty unless asked for.
    /// It shares the history's weights and total, so it costs nothing on a sample outside an
    /// excursion.
    private var shares: [Double]
    private var sharePeak = 0.0

    /// The history and the habit the configuration asks for (``ModelConfig/historySamples``,
    /// ``ModelConfig/habitSamples``): what every learnt detector keeps.
    ///
    /// `shares`: also keep the excursions' second statistic (``learn(_:share:)``).
    init(config: ModelConfig, shares: Bool = false) {
        self.init(horizon: config.historySamples, habitHorizon: config.habitSamples, shares: shares)
    }

    /// `horizon` and `habitHorizon`: the samples of history each histogram remembers.
    init(horizon: Double, habitHorizon: Double = 0, shares: Bool = false) {
        counts = [Double](repeating: 0, count: Rarity.bins)
        self.shares = [Double](repeating: 0, count: shares ? Rarity.bins : 0)
        growth = 1 / (1 - 1 / max(10, horizon))
        habit = [Double](repeating: 0, count: habitHorizon > horizon ? Rarity.bins : 0)
        habitExponent = log(1 / (1 - 1 / max(10, habitHorizon))) / log(growth)
    }

    private var habitWeight: Double { habitBase * pow(weight, habitExponent) }

    /// How many times the long histogram holds a value at least as high as `c` (decayed).
    func habitual(_ c: Double) -> Double {
        guard !habit.isEmpty, let b = Rarity.bin(c) else { return 0 }
        return Rarity.tail(of: habit, from: b) / habitWeight
    }

    /// The sum of `histogram`'s bins from `b` up.
    private static func tail(of histogram: [Double], from b: Int) -> Double {
        var tail = 0.0
        histogram.withUnsafeBufferPointer { p in
            for i in b..<Rarity.bins { tail += p[i] }
        }
        return tail
    }

    /// Samples of history the distribution effectively holds.
    var history: Double { total / weight }

    @inline(__always)
    static func bin(_ c: Double) -> Int? {
        guard c >= 0.0625 else { return nil }  // 2^lowestLog2
        guard c.isFinite else { return bins - 1 }
        // Half-octave bins from the binary exponent and whether the significand passes √2:
        // the same as ⌊2·(log₂ c + 4)⌋, without a logarithm on every sample. Both are read
        // from the bits (c is normal here): the significand's fraction bits grow with it, so
        // comparing them with √2's is comparing the significands.
        let exponent = Int(c.exponentBitPattern) - 1023  // the exponent bias of a Double
        let upperHalf = c.significandBitPattern >= Rarity.sqrt2FractionBits ? 1 : 0
        return min(2 * (exponent + 4) + upperHalf, bins - 1)
    }

    /// −log₁₀ P(statistic ≥ c) over the remembered history, taken to be at least
    /// `assumedHistory` samples long (0 when c is unremarkable).
    func surprise(_ c: Double, assumedHistory: Double) -> Double {
        guard let b = Rarity.bin(c) else { return 0 }
        let p = (Rarity.tail(of: counts, from: b) / weight + 0.1) / max(total / weight + 1, assumedHistory)
        return -log10(p)
    }

    /// −log₁₀ P(an excursion's second statistic ≥ `share`) over the remembered history, as
    /// ``surprise(_:assumedHistory:)`` is for the first: the excursions that peaked at least as
    /// high, per sample of history.
    func shareSurprise(_ share: Double, assumedHistory: Double) -> Double {
        guard !shares.isEmpty, let b = Rarity.bin(share) else { return 0 }
        let p = (Rarity.tail(of: shares, from: b) / weight + 0.1) / max(total / weight + 1, assumedHistory)
        return -log10(p)
    }

    /// The detector's certainty `raw`, judged against how rare it is: unchanged when its
    /// surprise reaches `decades`, else scaled by surprise / decades and capped below 1.
    func certainty(_ raw: Double, decades: Double) -> Double {
        // Below half of certainty a reading scores under 0.26 whatever its rarity: not worth the
        // histogram walk on every sample.
        guard raw >= 0.5 else { return raw }
        return judged(raw, rarity: surprise(raw, assumedHistory: Rarity.assumedHistory(decades: decades)) / decades)
    }

    /// As ``certainty(_:decades:)``, for a reading that is news if it is rare by either of two
    /// measures: its statistic `raw`, or its second statistic `share` among the peaks of
    /// earlier excursions (``learn(_:share:)``). A departure of a size the signal has had
    /// before, in its own units, can still be deeper than any before as a share of its level:
    /// a street that empties in a blizzard, after holidays that halved its traffic.
    func certainty(_ raw: Double, share: Double, decades: Double) -> Double {
        guard raw >= 0.5 else { return raw }
        let assumed = Rarity.assumedHistory(decades: decades)
        var f = surprise(raw, assumedHistory: assumed) / decades
        if f < 1, raw >= 1 { f = max(f, shareSurprise(share, assumedHistory: assumed) / decades) }
        return judged(raw, rarity: f)
    }

    /// `raw` scaled by its rarity `f` (surprise / decades) when below 1, and by the habit.
    private func judged(_ raw: Double, rarity f: Double) -> Double {
        guard f >= 1 else { return min(raw, 1) * f }
        guard raw >= 1, !habit.isEmpty else { return raw }
        // A habit scores below certainty, the more often held the lower.
        let held = habitual(raw)
        return held >= Rarity.habitCount ? 0.9 * Rarity.habitCount / held : raw
    }

    /// Three times 10^decades samples: the history length assumed while the real one is shorter.
    static func assumedHistory(decades: Double) -> Double { 3 * pow(10, decades) }

    /// The second statistic the detectors keep (``learn(_:share:)``): `x`'s deviation from
    /// `reference` as a share of the level, in thousandths. The level is the larger of the
    /// reference and `x` above the lowest value the signal has had, `x` included (`lowest` is
    /// the lowest before it, ``SignalScale/lowest``; so the unit's zero does not matter, and
    /// going to zero is the whole level, doubling half of it), and at least `certain`, the
    /// deviation the detector's rule calls certain, so a deviation read here (one at least
    /// that large) is at most 1000.
    static func share(of x: Double, from reference: Double, lowest: Double, certain: Double) -> Double {
        let zero = min(lowest, x)
        return 1000 * abs(x - reference) / max(abs(reference - zero), abs(x - zero), certain)
    }

    /// Learns `c`, and `share`, the same sample's second statistic (read only inside an
    /// excursion, c ≥ 1; its peak is counted when the excursion ends).
    mutating func learn(_ c: Double, share: Double) {
        if c >= 1 { sharePeak = max(sharePeak, share) }
        learn(c)
    }

    mutating func learn(_ c: Double) {
        total += weight
        if c >= 1 {
            // An excursion the rule calls certain counts once, at its peak, when it ends: a
            // level shift that keeps the statistic high for a hundred samples is one event, as
            // is a one-sample spike. (Else a signal with one fault an hour would learn its
            // faults as routine, while a square wave's two edges a day are rightly routine.)
            excursionPeak = max(excursionPeak, c)
        } else {
            if excursionPeak > 0, let b = Rarity.bin(excursionPeak) {
                counts[b] += weight
                // The habit holds alarms only (certainty 1 and above): the excursions' peaks.
                if !habit.isEmpty { habit[b] += habitWeight }
                excursionPeak = 0
                if !shares.isEmpty, let s = Rarity.bin(sharePeak) { shares[s] += weight }
                sharePeak = 0
            }
            if let b = Rarity.bin(c) { counts[b] += weight }
        }
        weight *= growth
        if weight > 1e150 { rescale() }
    }

    /// Rescales before the numbers overflow; ratios are unchanged.
    private mutating func rescale() {
        if !habit.isEmpty {
            habitBase = habitWeight
            if habitBase > 1e150 {
                for i in 0..<Rarity.bins { habit[i] /= habitBase }
                habitBase = 1
            }
        }
        let scale = 1 / weight
        for i in 0..<Rarity.bins { counts[i] *= scale }
        for i in shares.indices { shares[i] *= scale }
        total *= scale
        weight = 1
    }
}
