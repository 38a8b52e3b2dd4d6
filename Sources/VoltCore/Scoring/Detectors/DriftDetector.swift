/// Drift: a slow, steady change of level, found as the slope of a straight line fitted to the
/// last `drift_seconds` of samples.
///
/// Scale-free by default: the change must exceed ``noiseMultiple`` times the signal's usual
/// step noise (``SignalScale/sigma``) unless `drift_volts` sets an absolute bar. Until the
/// history of usual wander is long enough, a drift must clear three times that bar, so a
/// strong ramp is flagged within minutes of start but a wandering signal is not judged on
/// a guess. A drift that keeps going for `adapt_seconds` is accepted as the signal's new
/// pace (a battery discharging steadily), and its certainty is capped by how rare such a
/// change is on this signal (``Rarity``).
///
/// The fit is kept with running sums (Σy, Σiy, Σy²), so each sample costs O(1) however long
/// the window; the sums are recomputed from the buffer once per window to stop rounding
/// error from accumulating. A drift must be both large (the line's change over the window
/// beyond `drift_volts`) and straight (that change many times the residual scatter, which
/// tells a ramp from a step or from noise), and not made in a sixth of the window or less
/// (a change that took a few seconds is a step at the drift's scale, however smooth). Some
/// signals wander on their own (a solar panel under passing clouds): the detector learns the
/// usual size of the change over a window and asks a drift to be several times that, so it
/// stays quiet on a wandering signal rather than cry wolf. "Usual" is the largest healthy
/// change seen over the last 30 windows, leaving out the newest 3: natural wander comes in
/// bursts (so a peak, not an average), and a drift in progress must never set its own bar (so
/// a delay). A change the signal makes every day at this time (a panel climbing at dawn) is its
/// rhythm: once earlier days are known, a drift whose value lies within the values the daily
/// profile passes through around now (``SeasonalDetector/Expectation/departureFromBand(of:)``)
/// is not reported.
struct DriftDetector: Sendable {
    private var window: RingBuffer
    private let length: Int
    private var sumY = 0.0
    private var sumIY = 0.0
    private var sumYY = 0.0
    private var sinceRecompute = 0
    /// Σ (i - mean i)² for i in 0..<length.
    private let sxx: Double
    /// Largest healthy |change over a window| per block of samples, oldest first.
    private var blockPeaks: RingBuffer
    private var currentPeak = 0.0
    private var inBlock = 0
    private let blockLength: Int
    /// Blocks too recent to count as "usual" (a drift in progress).
    private let delayBlocks: Int
    /// Blocks of history needed before judging: the delay plus seven windows, so "usual" rests
    /// on more than one or two windows of a signal.
    private let armBlocks: Int
    /// The usual wander in effect (max of the delayed block peaks), refreshed per block.
    private var wander = 0.0
    /// Samples since any detector last raised an anomaly; the wander is learnt only from
    /// windows free of them (a step or a spike inside the window is not "usual" change),
    /// with a short window's margin for the tail of an excursion that stopped being flagged.
    private var quietFor = 0
    private let quietNeeded: Int
    private let sampleRate: Double
    private let driftVolts: Double
    private let enabled: Bool
    private var rarity: Rarity
    private let rarityDecades: Double
    private let adaptSamples: Int
    /// Samples a quick change may take and still be a step, not a drift: a sixth of the window.
    private let stepSpan: Int
    /// The largest quick change seen within about one window, and how many samples ago.
    private var largestStep = 0.0
    private var largestStepAge = 0
    /// Consecutive samples of alarming drift.
    private var driftingFor = 0
    /// A drift accepted after `adapt_seconds`: counts as usual wander, forgotten over the history.
    private var accepted = 0.0
    private let acceptedDecay: Double
    /// How many σ of step noise a drift's change must reach (about 0.08 V on the bench ADC).
    static let noiseMultiple = 16.0
    /// How straight a drift must be: change / residual scatter.
    static let straightness = 6.0
    /// How far beyond the usual wander a drift must go.
    static let wanderFactor = 2.0

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        sampleRate = config.sampleRate
        driftVolts = config.driftVolts ?? 0
        enabled = config.enabledKinds.contains(.drift)
        length = max(10, Int((config.driftSeconds * config.sampleRate).rounded()))
        window = RingBuffer(capacity: length)
        let n = Double(length)
        sxx = n * (n * n - 1) / 12
        quietNeeded = length + config.windowSize
        blockLength = max(1, length / 6)
        stepSpan = max(1, length / 6)
        delayBlocks = 18
        armBlocks = delayBlocks + 42
        blockPeaks = RingBuffer(capacity: 180)
        rarity = Rarity(config: config)
        rarityDecades = config.rarityBarDecades
        adaptSamples = config.adaptSamples
        acceptedDecay = 1 - 1 / max(10, config.historySamples)
    }

    var fill: Double { min(1, Double(blockPeaks.count) / Double(armBlocks)) }

    /// `disturbed`: another detector flagged this sample. `daily`: what earlier days say about
    /// this moment, if they explain the signal.
    mutating func observe(_ y: Double, disturbed: Bool, scale: SignalScale, daily: SeasonalDetector.Expectation?, into verdict: inout Verdict) {
        quietFor = disturbed ? 0 : quietFor + 1
        // The largest quick change (over a sixth of the window: one sample on a slow signal,
        // ten seconds at 10 Hz) in about the last window; the maximum is reset when it ages out.
        if window.count >= stepSpan {
            let step = abs(y - window[window.count - stepSpan])
            largestStepAge += 1
            if step >= largestStep || largestStepAge > length {
                largestStep = step
                largestStepAge = 0
            }
        }
        if let old = window.push(y) {
            // Every remaining element's index drops by one; the new one enters at length - 1.
            sumIY -= sumY - old
            sumY -= old
            sumYY -= old * old
            sumIY += Double(length - 1) * y
        } else {
            sumIY += Double(window.count - 1) * y
        }
        sumY += y
        sumYY += y * y
        sinceRecompute += 1
        if sinceRecompute >= length { recompute() }
        guard window.isFull else { return }

        let n = Double(length)
        let meanI = (n - 1) / 2
        let slope = (sumIY - meanI * sumY) / sxx
        let change = slope * (n - 1)
        let variance = max(0, (sumYY - sumY * sumY / n) - slope * slope * sxx) / n
        let scatter = max(variance.squareRoot(), scale.floor)
        let magnitude = abs(change)

        // A change made in one jump, or in a few seconds (a cloud's edge), is a level shift
        // (the spike detector's), not a drift.
        let stepLike = largestStep >= 0.4 * magnitude
        accepted *= acceptedDecay
        let armed = blockPeaks.count >= armBlocks
        let learnt = max(driftVolts, DriftDetector.wanderFactor * max(wander, accepted), DriftDetector.noiseMultiple * scale.sigma, scale.floor)
        let needed = armed ? learnt : 3 * learnt
        var raw = min(magnitude / needed, magnitude / (scatter * DriftDetector.straightness))
        if stepLike || !scale.isKnown { raw = min(raw, 0.5) }
        if let daily { raw = min(raw, daily.departureFromBand(of: y)) }
        let certainty = rarity.certainty(raw, decades: rarityDecades)
        rarity.learn(raw)
        driftingFor = certainty >= 1 ? driftingFor + 1 : 0
        if driftingFor > adaptSamples {
            accepted = max(accepted, magnitude)
            driftingFor = 0
        }
        // Only straight changes could ever raise a drift, so only they teach "usual".
        let straight = magnitude >= scatter * DriftDetector.straightness / 2
        if certainty < 1 && straight && quietFor >= quietNeeded { currentPeak = max(currentPeak, magnitude) }
        inBlock += 1
        if inBlock == blockLength { closeBlock() }
        guard enabled else { return }
        verdict.add(.drift, certainty: certainty) {
            let perMinute = slope * sampleRate * 60
            return "drift: \(perMinute >= 0 ? "+" : "")\(FixedPoint.format(perMinute)) \(unit)/min, \(FixedPoint.format(change)) \(unit) over the last \(FixedPoint.format(Double(length) / sampleRate, digits: 0)) s"
        }
    }

    private mutating func closeBlock() {
        blockPeaks.push(currentPeak)
        currentPeak = 0
        inBlock = 0
        var peak = 0.0
        for i in 0..<max(0, blockPeaks.count - delayBlocks) { peak = max(peak, blockPeaks[i]) }
        wander = peak
    }

    private mutating func recompute() {
        sinceRecompute = 0
        sumY = 0
        sumIY = 0
        sumYY = 0
        for i in 0..<window.count {
            let y = window[i]
            sumY += y
            sumIY += Double(i) * y
            sumYY += y * y
        }
    }
}
