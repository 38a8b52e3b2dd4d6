#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A signal that stops changing at all: a frozen ADC, a wire held at a rail, a firmware that
/// repeats its last value.
///
/// A quiet signal on a 10-bit ADC repeats values often, so "unchanged for N samples" alone
/// would fire on a healthy, steady voltage. The detector learns how often consecutive samples
/// are equal and requires a run so long it would happen by chance less than once in 10^9
/// (and at least `stuck_seconds`), and longer by half than any run the signal has ended by
/// itself: some signals (a switch, a counter, a square wave) hold their value for hours as
/// their normal rhythm. A signal that has never moved is not stuck either.
///
/// Nor is a signal that sits at its resting value: a counter idle at zero, a load switched
/// off, a panel at night. A value the signal has held for at least `stuck_seconds` and then
/// left by itself ``restVisits`` times is a rest: holding it again, for however long, is the
/// signal's rhythm. Rest runs have heavy tails (idle for an hour today, six hours tomorrow), so
/// "longer than any before" would alarm at every new record. A frozen ADC stops at whatever
/// value it read last, which is not a value the signal rests at.
struct StuckDetector: Sendable {
    /// How often a held value must be left by the signal itself before it counts as a rest.
    static let restVisits = 3
    /// The values held for at least the minimum run and then left, with how often: a few
    /// slots, as a signal has few resting levels (off, on, a switch's two positions).
    private var rests = [(value: Double, visits: Int)](repeating: (.nan, 0), count: 4)
    private var last: Double?
    private var run = 0
    /// Running estimate of P(sample equals the previous one) on healthy data.
    private var repeatRate: RunningMean
    /// Samples that differed from the one before, ever.
    private var changes = 0
    /// The longest run that ended without being flagged.
    private var longestHealthyRun = 0
    private let minimumRun: Int
    /// ``requiredRun`` at the current repeat rate, refreshed every 32 samples (two logarithms
    /// per sample would cost more than the rest of the detector).
    private var cachedRequiredRun: Int
    private let sampleRate: Double
    private let enabled: Bool

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        sampleRate = config.sampleRate
        enabled = config.enabledKinds.contains(.stuck)
        minimumRun = max(3, Int((config.stuckSeconds * config.sampleRate).rounded(.up)))
        repeatRate = RunningMean(warmup: 100, alpha: 1 / max(10, config.effectiveBaselineSeconds * config.sampleRate), initial: 0.5)
        cachedRequiredRun = minimumRun
        cachedRequiredRun = requiredRun
    }

    /// The run length needed at the current repeat rate.
    var requiredRun: Int {
        let p = min(max(repeatRate.value, 0.05), 0.999)
        let chance = Int((log(1e-9) / log(p)).rounded(.up))
        return max(minimumRun, chance, longestHealthyRun + longestHealthyRun / 2 + 1)
    }

    mutating func observe(_ x: Double, into verdict: inout Verdict) {
        let repeated = last == x
        if !repeated, let held = last {
            changes += 1
            if run < cachedRequiredRun && run > longestHealthyRun {
                longestHealthyRun = run
                cachedRequiredRun = requiredRun
            }
            if run >= minimumRun { rested(at: held) }
        }
        run = repeated ? run + 1 : 1
        last = x
        if run < cachedRequiredRun {
            // Learn only from data that is not itself a suspicious run.
            repeatRate.add(repeated ? 1 : 0)
            if repeatRate.count & 31 == 0 { cachedRequiredRun = requiredRun }
        }
        let required = cachedRequiredRun
        // A signal that has never moved (a constant, a flat line from the start) is not stuck:
        // that is what it does. Stuck means it moved before and stopped.
        guard run >= minimumRun / 2, enabled, changes >= 10, !isRest(x) else { return }
        let length = run
        // A state that lasts: certain at the required run, then growing with the logarithm of
        // its length, so a run four times as long is news once, not every doubling of it.
        let ratio = Double(length) / Double(required)
        let certainty = ratio <= 1 ? ratio : 1 + log2(ratio)
        verdict.addState(.stuck, certainty: certainty) {
            "stuck: \(FixedPoint.format(x)) \(unit) unchanged for \(length) samples (\(FixedPoint.format(Double(length) / sampleRate, digits: 1)) s)"
        }
    }

    /// The signal left `value` after holding it for at least the minimum run: one more visit
    /// to it, or (a value not yet known) it takes the slot of the least visited one.
    private mutating func rested(at value: Double) {
        if let slot = rests.firstIndex(where: { $0.value == value }) {
            rests[slot].visits += 1
        } else if let slot = rests.indices.min(by: { rests[$0].visits < rests[$1].visits }) {
            rests[slot] = (value, 1)
        }
    }

    private func isRest(_ value: Double) -> Bool {
        rests.contains { $0.value == value && $0.visits >= Self.restVisits }
    }
}
