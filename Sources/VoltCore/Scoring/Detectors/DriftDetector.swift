/// Drift: a slow, steady change of level, found as the slope of a straight line fitted to the
/// last `drift_seconds` of samples.
///
/// The fit is kept with running sums (Σy, Σiy, Σy²), so each sample costs O(1) however long
/// the window; the sums are recomputed from the buffer once per window to stop rounding
/// error from accumulating. A drift must be both large (the line's change over the window
/// beyond `drift_volts`) and straight (that change many times the residual scatter, which
/// tells a ramp from a step or from noise). Some signals wander on their own (a solar panel
/// under passing clouds): the detector learns the usual size of the change over a window and
/// asks a drift to be several times that, so it stays quiet on a wandering signal rather than
/// cry wolf.
struct DriftDetector: Sendable {
    private var window: RingBuffer
    private let length: Int
    private var sumY = 0.0
    private var sumIY = 0.0
    private var sumYY = 0.0
    private var sinceRecompute = 0
    /// Σ (i - mean i)² for i in 0..<length.
    private let sxx: Double
    /// The usual |change over a window| on this signal.
    private var wander: Double?
    private var learned = 0
    private let alpha: Double
    private let floor: Double
    /// How straight a drift must be: change / residual scatter.
    static let straightness = 6.0
    /// How far beyond the usual wander a drift must go.
    static let wanderFactor = 5.0

    init(config: ModelConfig) {
        length = max(10, Int((config.driftSeconds * config.sampleRate).rounded()))
        window = RingBuffer(capacity: length)
        let n = Double(length)
        sxx = n * (n * n - 1) / 12
        alpha = 1 / max(10, config.baselineSeconds * config.sampleRate)
        floor = config.minNoiseVolts
    }

    var fill: Double { min(1, Double(window.count) / Double(length)) }

    mutating func observe(_ y: Double, into verdict: inout Verdict, config: ModelConfig) {
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
        let scatter = max(variance.squareRoot(), floor)
        let magnitude = abs(change)

        let usual = wander ?? magnitude
        let needed = max(config.driftVolts, DriftDetector.wanderFactor * usual)
        let certainty = min(magnitude / needed, magnitude / (scatter * DriftDetector.straightness))
        // Learn the usual wander, fast at first, barely while a drift is under way.
        learned += 1
        let rate = learned < length ? 1 / Double(learned) : alpha
        wander = usual + (magnitude - usual) * (certainty >= 0.5 ? rate / 50 : rate)

        guard config.isEnabled(.drift) else { return }
        verdict.add(.drift, certainty: certainty) {
            let perMinute = slope * config.sampleRate * 60
            return "drift: \(perMinute >= 0 ? "+" : "")\(FixedPoint.format(perMinute)) V/min, \(FixedPoint.format(change)) V over the last \(FixedPoint.format(Double(length) / config.sampleRate, digits: 0)) s"
        }
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
