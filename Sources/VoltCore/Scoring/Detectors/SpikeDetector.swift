/// Spikes and dips: a sample far from the median of the short window, in robust deviations.
///
/// The scale is the window's median absolute deviation (MAD), floored at `min_noise_volts` so a signal sitting on one ADC step does not make one step of
/// change look infinite. An excursion that persists past the short window's half-life is
/// reported as a level shift: the signal stepped to a new level rather than jumping and
/// returning.
struct SpikeDetector: Sendable {
    private var window: SortedWindow
    private let warmup: Int
    private let floor: Double
    private let threshold: Double
    /// Consecutive samples deviating beyond the threshold in one direction (+ up, - down).
    private var excursion = 0
    /// Samples after which a persisting excursion counts as a level shift.
    private let shiftSamples: Int
    private let sampleRate: Double
    private let enabled: AnomalyKinds

    init(config: ModelConfig) {
        sampleRate = config.sampleRate
        enabled = config.enabledKinds
        window = SortedWindow(capacity: config.windowSize)
        warmup = max(5, config.windowSize / 2)
        floor = config.minNoiseVolts
        threshold = config.spikeMADs
        shiftSamples = max(3, Int((2 * config.sampleRate).rounded()))
    }

    var fill: Double { min(1, Double(window.count) / Double(warmup)) }

    mutating func observe(_ x: Double, into verdict: inout Verdict) {
        defer { window.push(x) }
        guard window.count >= warmup else { return }
        let median = window.median
        let mad = max(window.medianAbsoluteDeviation(around: median), floor)
        let deviations = (x - median) / mad
        let c = abs(deviations) / threshold
        if c >= 1 {
            let up = deviations > 0
            excursion = up ? max(1, excursion + 1) : min(-1, excursion - 1)
        } else {
            excursion = 0
        }
        let persisted = abs(excursion) > shiftSamples
        let kind: AnomalyKind = persisted ? .levelShift : (deviations > 0 ? .spike : .dip)
        guard enabled.contains(kind) else { return }
        let seconds = Double(window.count) / sampleRate
        verdict.add(kind, certainty: c) {
            let side = deviations > 0 ? "above" : "below"
            if kind == .levelShift {
                return "level_shift: \(FixedPoint.format(x)) V has stayed \(FixedPoint.format(abs(deviations), digits: 0)) MADs \(side) the \(FixedPoint.format(seconds, digits: 0)) s median \(FixedPoint.format(median)) V for \(FixedPoint.format(Double(abs(excursion)) / sampleRate, digits: 1)) s"
            }
            return "\(kind.rawValue): \(FixedPoint.format(x)) V is \(FixedPoint.format(abs(deviations), digits: 0)) MADs \(side) the \(FixedPoint.format(seconds, digits: 0)) s median \(FixedPoint.format(median)) V"
        }
    }
}
