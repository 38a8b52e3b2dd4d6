/// Noise (sample-to-sample variation rising well above its usual level) and oscillation (the
/// extra variation is periodic).
///
/// Variation is measured on first differences, which ignore slow changes of level, by the
/// upper quartile of |Δ| over a short window: robust to the one or two large differences a
/// spike or a step brings. A slope makes first differences large too (a panel's voltage at a
/// cloud's edge changes by ten times its noise per sample, all in one direction), so the same
/// statistic is also taken on second differences, which a slope leaves alone, against its own
/// usual level: only variation that is unusual on both is noise. The usual levels are slow
/// averages of the statistics. When the
/// variation is high, the autocorrelation of the differences tells a periodic component
/// (a strong peak at some lag) from random noise (no peak). A new noise level that holds
/// for `adapt_seconds` becomes the usual one; the certainty is capped by how rare such a
/// ratio is on this signal (``Rarity``).
struct NoiseDetector: Sendable {
    /// |Δ| over the short window.
    private var magnitudes: SortedWindow
    /// Signed Δ, long enough for the autocorrelation window plus its largest lag.
    private var differences: RingBuffer
    private var last: Double?
    private var baseline: Double?
    /// The usual level of ``bendingLevel()``; nil until first measured.
    private var bendBaseline: Double?
    /// Samples since the bends' usual level was last learnt: a count, not `seen` modulo the
    /// window, which was a division on every sample (2 % of the core benchmark).
    private var sinceBends = 0
    private var seen = 0
    private let alpha: Double
    private var rarity: Rarity
    private let rarityDecades: Double
    private let adaptSamples: Int
    /// Consecutive samples with the variation at an alarming ratio.
    private var unusualFor = 0
    /// Autocorrelation window and lags, samples.
    private let correlationWindow: Int
    private let maxLag: Int
    private let sampleRate: Double
    private let noiseRatio: Double
    private let oscillationRatio: Double
    private let enabled: AnomalyKinds
    /// The variation at each time of day on earlier days: a signal noisier every afternoon
    /// (a panel in full sun, a charger running) is not newly noisy this afternoon.
    private var daily: SeasonalProfile
    /// The variation at this time on earlier days (upper quartile of |Δ|), for the spike
    /// detector's scale; nil until known.
    private(set) var expectedLevel: Double?

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        sampleRate = config.sampleRate
        noiseRatio = config.noiseRatio
        oscillationRatio = config.oscillationRatio
        enabled = config.enabledKinds
        magnitudes = SortedWindow(capacity: NoiseDetector.windowSamples)
        correlationWindow = max(16, Int((6.4 * config.sampleRate).rounded()))
        maxLag = correlationWindow / 2
        differences = RingBuffer(capacity: correlationWindow + maxLag)
        alpha = 1 / max(10, config.effectiveBaselineSeconds * config.sampleRate)
        rarity = Rarity(config: config)
        rarityDecades = config.rarityBarDecades
        adaptSamples = config.adaptSamples
        daily = SeasonalProfile(periodMs: SeasonalDetector.dayMs, bins: 288, cycles: 4, sampleRate: config.sampleRate)
    }

    var fill: Double { min(1, Double(seen) / Double(magnitudes.capacity * 4)) }

    mutating func observe(_ x: Double, timeMs: Int64, scale: SignalScale, into verdict: inout Verdict) {
        guard let last else {
            self.last = x
            return
        }
        self.last = x
        let d = x - last
        differences.push(d)
        magnitudes.push(abs(d))
        seen += 1
        guard magnitudes.isFull else { return }
        let level = magnitudes.quantile(NoiseDetector.quartile)
        guard let usual = baseline else {
            baseline = level
            return
        }
        let floor = scale.floor
        var reference = max(usual, floor)
        expectedLevel = nil
        if let earlier = daily.expectation(level, at: timeMs, floor: floor, highest: true) {
            reference = max(reference, earlier.value)
            expectedLevel = earlier.value
        }
        daily.learn(level, at: timeMs, nearest: nil, departure: false, floor: floor)
        let ratio = level / reference
        // Learn the usual level; barely, while it is unusual, so an anomaly does not become
        // the norm at once; a level that holds for adapt_seconds is accepted outright.
        let rate = seen < magnitudes.capacity * 4 ? 4 / Double(seen) : alpha
        baseline = usual + (level - usual) * (ratio >= noiseRatio ? rate / 20 : rate)
        unusualFor = ratio >= noiseRatio ? unusualFor + 1 : 0
        let adapted = unusualFor > adaptSamples
        if adapted {
            baseline = level
            unusualFor = 0
        }
        // The second differences: measured where the variation alone would alarm, and once a
        // window to learn their usual level (a slow average, so once a window is enough; a
        // sorted window of them kept every sample was 8 % of the scorer). Against the earlier
        // days' variation too, scaled by how the two usual levels compare on this signal.
        var bendRatio = ratio
        sinceBends += 1
        let learnBends = sinceBends == magnitudes.capacity
        if learnBends { sinceBends = 0 }
        if (learnBends || ratio >= noiseRatio), differences.count > magnitudes.capacity {
            let bend = bendingLevel()
            if let usualBend = bendBaseline {
                bendRatio = bend / (reference * max(usualBend, floor) / max(usual, floor))
                if learnBends {
                    let step = (bendRatio >= noiseRatio ? rate / 20 : rate) * Double(magnitudes.capacity)
                    bendBaseline = usualBend + (bend - usualBend) * min(1, step)
                }
            } else if learnBends {
                bendBaseline = bend
            }
            if adapted { bendBaseline = bend }
        }
        guard seen >= magnitudes.capacity * 2 else { return }

        let raw = ratio / noiseRatio
        let variationCertainty = rarity.certainty(raw, decades: rarityDecades)
        rarity.learn(raw)
        // Noise is variation that is unusual on second differences too; a slope's (a cloud's
        // edge, a quick ramp) is not. (Oscillation is judged on the plain variation: a slow
        // period is smooth, and has its own test.)
        let noiseCertainty = bendRatio < ratio
            ? min(variationCertainty, rarity.certainty(bendRatio / noiseRatio, decades: rarityDecades))
            : variationCertainty
        var periodic: (lag: Int, r: Double)?
        // Look for a period only when the variation is close to alarming. (Not from 2×: on a
        // 10-bit ADC, one step to two steps of change is already 2×.)
        if ratio >= 0.75 * min(noiseRatio, oscillationRatio), enabled.contains(.oscillation) {
            periodic = strongestPeriod()
        }
        if let periodic, periodic.r >= 0.6 {
            let c = min(ratio / oscillationRatio, variationCertainty * noiseRatio / oscillationRatio)
            let period = Double(periodic.lag) / sampleRate
            verdict.add(.oscillation, certainty: max(c, variationCertainty)) {
                "oscillation: a \(FixedPoint.format(period, digits: 1)) s periodic component (autocorrelation \(FixedPoint.format(periodic.r, digits: 2))), variation \(FixedPoint.format(ratio, digits: 1))× usual"
            }
        } else if enabled.contains(.noise) {
            verdict.add(.noise, certainty: noiseCertainty) {
                "noise: sample-to-sample variation \(FixedPoint.format(level)) \(unit) is \(FixedPoint.format(ratio, digits: 1))× the usual \(FixedPoint.format(reference)) \(unit)"
            }
        }
    }

    /// The upper quartile of |Δ²| (second differences) over the short window, divided by √3:
    /// for white noise the same level as |Δ|'s (Δ² has three times Δ's variance), for a slope
    /// only what bends away from it. The quartile interpolates between two of the largest
    /// quarter, so only those are kept, in order, in a buffer on the stack: no allocation, and
    /// most values cost one comparison.
    private func bendingLevel() -> Double {
        differences.withContiguousElements { NoiseDetector.bendingLevel(of: $0, over: magnitudes.capacity) }
    }

    /// ``bendingLevel()`` of the last `n` second differences of `d` (which holds more than `n`
    /// first differences).
    static func bendingLevel(of d: UnsafeBufferPointer<Double>, over n: Int) -> Double {
        let position = NoiseDetector.quartile * Double(n - 1)
        let low = Int(position)
        let kept = n - low  // the values from the low one up
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: kept) { top -> Double in
            let offset = d.count - n
            var count = 0
            for i in 0..<n {
                let v = abs(d[offset + i] - d[offset + i - 1])
                if count == kept {
                    guard v > top[0] else { continue }
                    // Drop the smallest kept; v moves down to its place.
                    var j = 0
                    while j + 1 < kept && top[j + 1] < v {
                        top[j] = top[j + 1]
                        j += 1
                    }
                    top[j] = v
                } else {
                    var j = count
                    while j > 0 && top[j - 1] > v {
                        top[j] = top[j - 1]
                        j -= 1
                    }
                    top[j] = v
                    count += 1
                }
            }
            // top[0] is the value at `low` in sorted order, top[1] the next.
            let high = kept > 1 ? top[1] : top[0]
            return (top[0] + (high - top[0]) * (position - Double(low))) / NoiseDetector.sqrt3
        }
    }

    static let sqrt3 = 3.0.squareRoot()

    /// Variation is the upper quartile of |Δ| (and of |Δ²| ÷ √3) over the short window.
    static let quartile = 0.75

    /// The short window of |Δ|, in samples at any rate. The upper quartile ignores three large
    /// differences (a spike's two and a step) from 13 samples on (with 8, one spike reached
    /// it); it needs about n/4 noisy samples to rise, so a shorter window finds a new noise
    /// level sooner but is jumpier on quiet lines. 14 was chosen between 12 and 16 by
    /// measurement (docs/detection.md): at 10 Hz a new noise level is found in 0.4-1.1 s (2 s
    /// windows took 0.6-1.3 s), and quiet stretches come no nearer the threshold than with 16.
    static let windowSamples = 14

    /// The lag (≥ 3 samples) with the highest autocorrelation of the recent differences.
    /// Runs only while variation is high, so its O(window × lags) cost is paid rarely.
    private func strongestPeriod() -> (lag: Int, r: Double)? {
        guard differences.isFull else { return nil }
        let n = correlationWindow
        let maxLag = self.maxLag
        return differences.withContiguousElements { d -> (lag: Int, r: Double)? in
            // d holds maxLag older values, then the n-sample window.
            let window = UnsafeBufferPointer(rebasing: d[maxLag..<(maxLag + n)])
            var energy = 0.0
            for v in window { energy += v * v }
            guard energy > 0 else { return nil }
            var best: (lag: Int, r: Double)?
            // A period's differences swing both ways: somewhere before the peak (about half a
            // period) they anticorrelate. A ramp's or a smooth edge's are all alike and
            // correlate at every lag: a slope, not a period.
            var lowest = 1.0
            var lowestBeforeBest = 1.0
            for lag in 1...maxLag {
                let lagged = UnsafeBufferPointer(rebasing: d[(maxLag - lag)..<(maxLag - lag + n)])
                var sum = 0.0
                for i in 0..<n { sum += window[i] * lagged[i] }
                let r = sum / energy
                if lag >= 3, best == nil || r > best!.r {
                    best = (lag, r)
                    lowestBeforeBest = lowest
                }
                lowest = min(lowest, r)
            }
            guard lowestBeforeBest <= -0.2 else { return nil }
            return best
        }
    }
}
