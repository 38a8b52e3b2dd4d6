/// Spikes that come more often than they used to: a connection working loose, a failing
/// regulator, a load balancer sending bursts.
///
/// Some signals spike as part of what they do (a relay clicking, a pump starting), so each
/// spike is soon routine for ``SpikeDetector``'s rarity test, and a day with five times as
/// many of them raises nothing there. This detector counts the spikes the rule calls big
/// (before rarity; the rhythm of the day is already taken out; a departure of several samples
/// counts once) over the last window and
/// compares the count with the long-run rate: at least `noise_ratio` times the usual count,
/// and at least three spikes, is the rule; its certainty is capped by how rare such a ratio
/// is on this signal (``Rarity``), so bursts the signal has always had stay quiet. A new rate
/// that holds for `adapt_seconds` (and at least one window) is the new normal.
struct SpikeRateDetector: Sendable {
    /// 1 for each of the last `window` samples where a spike began, else 0.
    private var marks: RingBuffer
    /// Spikes among the last `window` samples.
    private var count = 0
    /// Whether the previous sample was a spike: a departure that lasts several samples is
    /// one spike, counted at its first (and a step to a new level is none: it stops being
    /// a spike once ``SpikeDetector`` calls it a level shift).
    private var inSpike = false
    /// Long-run spikes per sample (learnt from every sample).
    private var rate: RunningMean
    private let ratio: Double
    private var rarity: Rarity
    private let rarityDecades: Double
    private let adaptSamples: Int
    private var unusualFor = 0
    private let sampleRate: Double
    private let enabled: Bool

    /// Fewer spikes than this in a window is never a burst, whatever the usual rate.
    static let minimumSpikes = 3.0

    init(config: ModelConfig) {
        let window = max(8, config.windowSize)
        marks = RingBuffer(capacity: window)
        sampleRate = config.sampleRate
        ratio = config.noiseRatio
        rate = RunningMean(warmup: 4 * window, alpha: 1 / max(10, config.historySamples))
        rarity = Rarity(config: config)
        rarityDecades = config.rarityBarDecades
        adaptSamples = max(config.adaptSamples, window)
        enabled = config.enabledKinds.contains(.spike)
    }

    /// `spike`: the spike rule called this sample big (``SpikeDetector/observe``'s result).
    mutating func observe(spike: Bool, into verdict: inout Verdict) {
        // Disabled, it reports nothing, so it need not learn either.
        guard enabled else { return }
        let spiked = spike && !inSpike
        inSpike = spike
        let window = marks.capacity
        if let evicted = marks.push(spiked ? 1 : 0), evicted > 0 { count -= 1 }
        if spiked { count += 1 }
        let usual = rate.value * Double(window)
        let k = Double(count)
        let raw = k / max(ratio * usual, SpikeRateDetector.minimumSpikes)
        // Learn the usual rate from every sample, slowly while the count is unusual; a rate
        // that has held for adapt_seconds is accepted outright.
        rate.add(spiked ? 1 : 0, slowedBy: raw >= 1 ? 20 : 1)
        unusualFor = raw >= 1 ? unusualFor + 1 : 0
        if unusualFor > adaptSamples {
            rate.reset(to: k / Double(window))
            unusualFor = 0
        }
        guard rate.count >= 4 * window else { return }
        let c = rarity.certainty(raw, decades: rarityDecades)
        rarity.learn(raw)
        verdict.add(.spike, certainty: c) {
            "spike: \(count) spikes in the last \(FixedPoint.format(Double(window) / sampleRate, digits: 0)) s, about \(FixedPoint.format(usual, digits: 1)) usually"
        }
    }
}
