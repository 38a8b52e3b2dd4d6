/// What one unit of change means for this signal, learnt from the signal itself.
///
/// Detectors divide by robust spreads (a MAD, a quartile of |Δ|, a fit's scatter), and those
/// are zero on a flat or quantised stretch: one ordinary step would then be "infinitely" many
/// deviations. Instead of an absolute floor in volts (meaningless for a 12 V battery, a
/// current or a temperature), the floor is learnt: the signal's resolution (the smallest
/// non-zero step it has ever taken, one ADC count on a quantised line) and its long-run
/// typical step size (an average of |Δ| over the rarity history, so a signal that is flat
/// between rare jumps keeps the jumps' scale).
/// `min_noise_volts`, when configured, still sets a lower bound.
struct SignalScale: Sendable {
    private var last: Double?
    /// Smallest non-zero |Δ| seen.
    private(set) var resolution = Double.infinity
    /// |Δ| averaged over about `history_seconds`.
    private var steps: RunningMean
    /// Samples whose value differed from the previous one.
    private(set) var changes = 0
    private let configuredFloor: Double
    /// The lowest and highest finite values the signal had before this sample (±∞ until the
    /// first): the zero a deviation's share of the level is taken from (a panel's night, so
    /// the unit's zero does not matter), and the records a new value is judged against. Kept
    /// here once for the detectors that need them; during a sample they do not include it
    /// (``Rarity/share(of:from:lowest:certain:)`` takes the sample into account itself).
    private(set) var lowest = Double.infinity
    private(set) var highest = -Double.infinity

    init(config: ModelConfig) {
        steps = RunningMean(warmup: 100, alpha: 1 / max(10, config.historySamples))
        configuredFloor = config.minNoiseVolts ?? 0
        updateFloor()
    }

    /// Average of |Δ| over about `history_seconds`.
    var meanStep: Double { steps.value }

    /// Whether the signal has moved often enough (5 times) for a scale to mean anything: until
    /// then, the first ADC step a quiet line takes would be "infinitely" many deviations.
    var isKnown: Bool { changes >= 5 }

    /// A Gaussian's σ from its mean |Δ| (E|Δ| = 2σ/√π for white noise).
    var sigma: Double { meanStep / 1.1283791670955126 }

    /// The smallest spread a detector should divide by, in signal units: the resolution, a
    /// third of the usual noise, or the configured floor, whichever is largest; never zero.
    /// Kept up to date by ``observe(_:)``: every detector reads it for every sample.
    private(set) var floor = 0.0

    private mutating func updateFloor() {
        let learnt = max(resolution.isFinite ? resolution : 0, 0.3 * sigma)
        let f = max(learnt, configuredFloor)
        // A signal that has never moved: a millionth of its value, so a first step is huge but finite.
        floor = f > 0 ? f : 1e-6 * max(1e-3, abs(last ?? 1))
    }

    mutating func observe(_ x: Double) {
        defer {
            last = x
            updateFloor()
        }
        if x.isFinite {
            if x < lowest { lowest = x }
            if x > highest { highest = x }
        }
        guard let last else { return }
        let step = abs(x - last)
        guard step.isFinite else { return }
        if step > 0 {
            changes += 1
            if step < resolution { resolution = step }
        }
        steps.add(step)
    }
}
