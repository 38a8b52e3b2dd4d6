#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import VoltCore

// Shared synthetic signals and helpers for the core's tests. Everything here is deterministic:
// the only randomness is a seeded SplitMix64, so a failing test fails the same way every run.

extension SplitMix64 {
    /// A standard normal deviate (Box-Muller; the second deviate is thrown away for simplicity).
    mutating func gaussian() -> Double {
        let u1 = positiveUnit(), u2 = positiveUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// The bench hardware: an Arduino's 10-bit ADC against a 5 V reference, sampled at 10 Hz.
enum Bench {
    /// One ADC step, volts (exactly representable: 5 / 2^10).
    static let step = 5.0 / 1024
    /// 2.5 V: exactly 512 steps, the usual resting level of the bench signal.
    static let level = 2.5
    /// Milliseconds between samples at the default 10 Hz.
    static let periodMs: Int64 = 100
    /// Receive time of the first sample of every synthetic signal (2024-11-21, 06:20 UTC).
    static let startMs: Int64 = 1_732_170_000_000

    /// Rounds to the nearest ADC step, as the firmware's reading is.
    static func quantise(_ volts: Double) -> Double { (volts / step).rounded() * step }

    /// `seconds` of a healthy signal at `rate` Hz: `level` plus Gaussian noise of `sigma` volts,
    /// quantised to ADC steps.
    static func quiet(
        seconds: Double, rate: Double = 10, level: Double = Bench.level, sigma: Double = 0.005,
        seed: UInt64
    ) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<Int((seconds * rate).rounded())).map { _ in quantise(level + sigma * rng.gaussian()) }
    }

    /// Samples at `volts`, received `periodMs` apart from `startMs` (or at the explicit `times`).
    static func samples(_ volts: [Double], startMs: Int64 = startMs, periodMs: Int64 = periodMs) -> [Sample] {
        volts.enumerated().map { i, v in Sample(volts: v, receivedAtMs: startMs + Int64(i) * periodMs) }
    }

    /// Scores `volts` with a fresh ``Scorer``, one sample every `periodMs`.
    static func score(
        _ volts: [Double], config: ModelConfig = .default, startMs: Int64 = startMs, periodMs: Int64 = periodMs
    ) -> [ScoredResult] {
        score(samples(volts, startMs: startMs, periodMs: periodMs), config: config)
    }

    static func score(_ samples: [Sample], config: ModelConfig = .default) -> [ScoredResult] {
        var scorer = Scorer(config: config)
        return samples.map { scorer.score($0) }
    }

    /// Four minutes of the bench signal with one of nearly everything: spikes and dips of
    /// several sizes, a dropout, a flatline, a noise burst and an oscillation. Shared by the
    /// tests that compare whole runs (determinism, threshold monotonicity, live vs replay).
    static func eventful(seed: UInt64) -> [Sample] {
        var rng = SplitMix64(seed: seed &+ 0x5EED)
        var volts = quiet(seconds: 240, seed: seed)
        for _ in 0..<30 {
            let i = 100 + Int(rng.next() % 2_000)
            volts[i] = quantise(volts[i] + Double(Int(rng.next() % 161) - 80) / 1000)
        }
        volts[300] += 0.3                                                                  // spike
        volts[400] -= 0.3                                                                  // dip
        for i in 700..<820 { volts[i] = volts[699] }                                      // flatline
        for i in 1_000..<1_150 { volts[i] = quantise(2.5 + 0.05 * rng.gaussian()) }       // noise
        for i in 1_400..<1_600 {                                                           // oscillation
            volts[i] = quantise(volts[i] + 0.1 * sin(2 * Double.pi * Double(i) / 10))
        }
        var out = samples(volts)
        for i in 1_800..<out.count { out[i].receivedAtMs += 4_000 }                      // dropout
        return out
    }

    /// A `$VOLT` line with a correct checksum, as the firmware prints it.
    static func voltLine(seq: UInt32, volts: Double, uptimeMs: UInt32? = nil) -> String {
        let uptime = uptimeMs ?? seq &* 100
        let adc = Int((volts / step).rounded())
        return FrameParser.sentence("VOLT,\(seq),\(uptime),\(max(0, adc)),\(FixedPoint.format(volts, digits: 3))")
    }

    /// The boot banner of the bench firmware.
    static let helloLine = FrameParser.sentence("HELLO,voltage_monitor,1.0.0,uno,5000,10,100")
}

extension [ScoredResult] {
    /// Indices of the samples whose `kinds` contain `kind`.
    func indices(of kind: AnomalyKind) -> [Int] {
        enumerated().filter { $0.element.kinds.contains(kind) }.map(\.offset)
    }

    /// Indices of the samples scored as anomalies.
    var anomalyIndices: [Int] {
        enumerated().filter { $0.element.isAnomaly }.map(\.offset)
    }

    /// Every kind fired anywhere in the results.
    var allKinds: AnomalyKinds {
        var kinds = AnomalyKinds()
        for r in self { kinds.formUnion(r.kinds) }
        return kinds
    }
}

/// The promises every result makes, whatever the input: checked on every scored sample of
/// every scorer test, so the invariants are exercised on spikes, gaps, drifts and quiet data.
func expectResultInvariants(
    _ results: [ScoredResult], config: ModelConfig = .default, sourceLocation: SourceLocation = #_sourceLocation
) {
    var broken: [String] = []
    for (i, r) in results.enumerated() {
        if !(0...1).contains(r.anomalyScore) { broken.append("#\(i): score \(r.anomalyScore) outside [0, 1]") }
        if !(0...1).contains(r.confidence) { broken.append("#\(i): confidence \(r.confidence) outside [0, 1]") }
        if r.isAnomaly != (r.anomalyScore >= config.anomalyThreshold) {
            broken.append("#\(i): is_anomaly \(r.isAnomaly) but score \(r.anomalyScore), threshold \(config.anomalyThreshold)")
        }
        let band: Severity =
            r.anomalyScore >= config.effectiveCriticalThreshold ? .critical
            : r.anomalyScore >= config.anomalyThreshold ? .warning
            : r.anomalyScore >= config.effectiveWatchThreshold ? .watch : .normal
        if r.severity != band { broken.append("#\(i): severity \(r.severity) for score \(r.anomalyScore), expected \(band)") }
        if !r.isAnomaly && (!r.kinds.isEmpty || !r.reasons.isEmpty) {
            broken.append("#\(i): normal sample carries kinds \(r.kinds) / reasons \(r.reasons)")
        }
        if r.isAnomaly && r.reasons.isEmpty { broken.append("#\(i): anomaly without a reason") }
        if r.isAnomaly && r.reasons.count < r.kinds.map({ $0 }).count {
            broken.append("#\(i): \(r.kinds) but only \(r.reasons.count) reasons")
        }
        if broken.count >= 5 { break }
    }
    #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))", sourceLocation: sourceLocation)
}
