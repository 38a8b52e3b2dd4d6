#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import VoltCore

// Each detector on a synthetic signal where it must fire and one where it must stay quiet,
// driven through the real `Scorer` (or `DeviceStream` when frames matter) with the shipped
// configuration unless a test says otherwise. The quiet baseline is the bench's: 2.5 V with
// 5 mV of Gaussian noise, quantised to 5 V / 1024 steps, 10 samples a second.

/// Where a synthetic event starts, in samples: after the short windows have warmed up.
private let eventAt = 600

@Suite("Spike, dip and level shift")
struct SpikeDetectorTests {
    @Test func singleSampleSpikeFires() {
        var volts = Bench.quiet(seconds: 90, seed: 1)
        volts[eventAt] += 0.5
        let results = Bench.score(volts)
        expectResultInvariants(results)
        #expect(results.anomalyIndices == [eventAt], "only the spiked sample is an anomaly")
        let r = results[eventAt]
        #expect(r.kinds == [.spike])
        #expect(r.reasons.count == 1)
        #expect(r.reasons.first?.hasPrefix("spike:") == true)
        #expect(r.reasons.first?.contains("MADs above") == true, "\(r.reasons)")
        #expect(r.anomalyScore > 0.9, "a 0.5 V jump on 5 mV of noise is no borderline case")
    }

    @Test func singleSampleDipFires() {
        var volts = Bench.quiet(seconds: 90, seed: 2)
        volts[eventAt] -= 0.5
        let results = Bench.score(volts)
        expectResultInvariants(results)
        #expect(results.anomalyIndices == [eventAt])
        #expect(results[eventAt].kinds == [.dip])
        #expect(results[eventAt].reasons.first?.contains("MADs below") == true, "\(results[eventAt].reasons)")
    }

    @Test func aSpikeDuringWarmUpIsNotJudged() {
        // Fewer than half a window of history: no median worth comparing against yet.
        var volts = Bench.quiet(seconds: 10, seed: 3)
        volts[10] += 0.5
        let results = Bench.score(volts)
        #expect(!results[10].kinds.contains(.spike))
    }

    @Test func quietBaselineHasNoSpikesOrDips() {
        let results = Bench.score(Bench.quiet(seconds: 300, seed: 4))
        expectResultInvariants(results)
        #expect(results.indices(of: .spike).isEmpty)
        #expect(results.indices(of: .dip).isEmpty)
        #expect(results.indices(of: .levelShift).isEmpty)
    }

    @Test func smallStepsAreNotSpikes() {
        // 30 mV (6 ADC steps) moves are within 14 MADs of 5 mV noise... well, at the floor:
        // 30 mV / 5 mV = 6 MADs. They must not fire.
        var volts = Bench.quiet(seconds: 90, seed: 5)
        for i in stride(from: eventAt, to: volts.count, by: 37) { volts[i] += 0.03 }
        let results = Bench.score(volts)
        #expect(results.anomalyIndices.isEmpty)
    }

    @Test("a step held for 30 s is a level shift once it has lasted 2 s", arguments: [0.5, -0.5])
    func persistentStepIsALevelShift(step: Double) {
        var volts = Bench.quiet(seconds: 90, seed: 6)
        for i in eventAt..<volts.count { volts[i] += step }
        let results = Bench.score(volts)
        expectResultInvariants(results)
        let jump: AnomalyKind = step > 0 ? .spike : .dip
        #expect(results[eventAt].kinds == [jump], "its first sample is a jump like any spike")
        #expect(results.indices(of: jump).allSatisfy { $0 >= eventAt && $0 < eventAt + 20 })
        // Once the window has taken in the new level, it is the norm.
        #expect(results[(eventAt + 100)...].allSatisfy { !$0.isAnomaly })
        let shifts = results.indices(of: .levelShift)
        #expect(!shifts.isEmpty, "a step held for 30 s must be reported as a level shift")
        #expect(shifts.allSatisfy { $0 >= eventAt + 20 && $0 < eventAt + 60 }, "\(shifts)")
        if let first = shifts.first {
            #expect(results[first].reasons.contains { $0.hasPrefix("level_shift:") && $0.contains("stayed") })
        }
    }

    @Test func withALongWindowAStepIsALevelShiftAfterTwoSeconds() {
        // The persistence rule itself, where the window outlasts it (12 s window, 2 s rule).
        var config = ModelConfig.default
        config.windowSize = 120
        var volts = Bench.quiet(seconds: 90, seed: 9)
        for i in eventAt..<volts.count { volts[i] += 0.5 }
        let results = Bench.score(volts, config: config)
        expectResultInvariants(results, config: config)
        #expect(results.indices(of: .spike) == Array(eventAt..<(eventAt + 20)))
        let shifts = results.indices(of: .levelShift)
        #expect(shifts.first == eventAt + 20, "\(shifts)")
        let reason = results[eventAt + 20].reasons.first ?? ""
        #expect(reason.hasPrefix("level_shift:") && reason.contains("MADs above the 12 s median 2.500 V for 2.1 s"), "\(reason)")
        #expect(shifts.allSatisfy { $0 < eventAt + 60 })
    }

    @Test func shortExcursionIsNotALevelShift() {
        // 1.5 s away and back: spikes, not a new level.
        var volts = Bench.quiet(seconds: 90, seed: 8)
        for i in eventAt..<(eventAt + 15) { volts[i] += 0.5 }
        let results = Bench.score(volts)
        #expect(results.indices(of: .levelShift).isEmpty)
        let spikes = results.indices(of: .spike)
        #expect(spikes.first == eventAt && spikes.allSatisfy { $0 < eventAt + 15 }, "\(spikes)")
    }
}

@Suite("Dropout and lost frames")
struct GapDetectorTests {
    @Test func fiveSecondGapIsADropout() {
        let volts = Bench.quiet(seconds: 90, seed: 11)
        var samples = Bench.samples(volts)
        for i in eventAt..<samples.count { samples[i].receivedAtMs += 5_000 }
        let results = Bench.score(samples)
        expectResultInvariants(results)
        #expect(results.indices(of: .dropout) == [eventAt], "the first sample after the silence reports it")
        #expect(results.anomalyIndices == [eventAt])
        #expect(results[eventAt].reasons.first?.contains("no sample for 5.1 s") == true, "\(results[eventAt].reasons)")
    }

    @Test func gapJustBelowTheTimeoutIsNotADropout() {
        // Timeout: 10 periods of 100 ms. A 1 s gap is not beyond it; 1.1 s is.
        let volts = Bench.quiet(seconds: 90, seed: 12)
        var samples = Bench.samples(volts)
        for i in eventAt..<samples.count { samples[i].receivedAtMs += 900 }
        #expect(Bench.score(samples).indices(of: .dropout).isEmpty)
        for i in eventAt..<samples.count { samples[i].receivedAtMs += 100 }
        #expect(Bench.score(samples).indices(of: .dropout) == [eventAt])
    }

    @Test func jitteredTimesAreNotDropouts() {
        var rng = SplitMix64(seed: 13)
        let volts = Bench.quiet(seconds: 120, seed: 13)
        var t = Bench.startMs
        let samples = volts.map { v -> Sample in
            t += 50 + Int64(rng.next() % 300)   // 50 to 349 ms apart
            return Sample(volts: v, receivedAtMs: t)
        }
        let results = Bench.score(samples)
        #expect(results.indices(of: .dropout).isEmpty)
        #expect(results.anomalyIndices.isEmpty)
    }

    static func voltLines(_ volts: [Double], seqs: [UInt32]) -> [String] {
        zip(volts, seqs).map { Bench.voltLine(seq: $1, volts: $0) }
    }

    static func ingest(_ lines: [String], into stream: inout DeviceStream) -> [ScoredResult] {
        var results: [ScoredResult] = []
        for (i, line) in lines.enumerated() {
            if case .result(let r) = stream.ingest(line: line, receivedAtMs: Bench.startMs + Int64(i) * 100) {
                results.append(r)
            }
        }
        return results
    }

    @Test func seqJumpIsLostFrames() {
        let volts = Bench.quiet(seconds: 60, seed: 14)
        var seqs = (0..<UInt32(volts.count)).map { $0 }
        for i in 300..<seqs.count { seqs[i] += 4 }   // frames 300...303 never arrived
        var stream = DeviceStream(device: "bench", config: .default)
        let results = Self.ingest(Self.voltLines(volts, seqs: seqs), into: &stream)
        expectResultInvariants(results)
        #expect(results.indices(of: .lostFrames) == [300])
        #expect(results.anomalyIndices == [300])
        #expect(results[300].seq == 304)
        #expect(results[300].reasons.first == "lost_frames: seq jumped from 299 to 304, 4 frames lost")
        #expect(stream.counters.lost == 4)
        #expect(stream.scorer.lostFrames == 4)
    }

    @Test func contiguousSeqIncludingTheWrapIsQuiet() {
        let volts = Bench.quiet(seconds: 60, seed: 15)
        let seqs = (0..<UInt32(volts.count)).map { UInt32.max - 100 &+ $0 }   // wraps past 2^32 - 1
        var stream = DeviceStream(device: "bench", config: .default)
        let results = Self.ingest(Self.voltLines(volts, seqs: seqs), into: &stream)
        #expect(results.count == volts.count)
        #expect(results.indices(of: .lostFrames).isEmpty)
        #expect(results.anomalyIndices.isEmpty)
        #expect(stream.counters.lost == 0)
    }

    @Test func helloResetsSeqContinuity() {
        // The board reboots and counts from 0 again; the agent missed its first frames (the
        // port was being reopened), so the first seq it sees after the reboot is 60.
        let volts = Bench.quiet(seconds: 20, seed: 16)
        let before = Self.voltLines(Array(volts[..<100]), seqs: Array(0..<100))
        let after = Self.voltLines(Array(volts[100...]), seqs: (0..<UInt32(volts.count - 100)).map { 160 + $0 })

        var rebooted = DeviceStream(device: "bench", config: .default)
        let withHello = Self.ingest(before + [Bench.helloLine] + after, into: &rebooted)
        #expect(withHello.indices(of: .lostFrames).isEmpty, "a reboot is not frame loss")
        #expect(rebooted.counters.lost == 0)
        #expect(rebooted.counters.hellos == 1)
        #expect(rebooted.hello?.periodMs == 100)

        var silent = DeviceStream(device: "bench", config: .default)
        let withoutHello = Self.ingest(before + after, into: &silent)
        #expect(withoutHello.indices(of: .lostFrames) == [100], "the same jump without a $HELLO is loss")
        #expect(silent.counters.lost == 60)
    }

    @Test func rebootToSeqZeroAfterHelloIsQuiet() {
        let volts = Bench.quiet(seconds: 20, seed: 17)
        let lines = Self.voltLines(Array(volts[..<100]), seqs: Array(0..<100))
            + [Bench.helloLine]
            + Self.voltLines(Array(volts[100...]), seqs: Array(0..<UInt32(volts.count - 100)))
        var stream = DeviceStream(device: "bench", config: .default)
        let results = Self.ingest(lines, into: &stream)
        #expect(results.count == volts.count)
        #expect(results.indices(of: .lostFrames).isEmpty)
        #expect(stream.counters.lost == 0)
    }

    @Test func backwardSeqIsNotLoss() {
        let volts = Bench.quiet(seconds: 20, seed: 18)
        var seqs = (0..<UInt32(volts.count)).map { $0 + 1_000 }
        for i in 100..<seqs.count { seqs[i] -= 500 }
        var stream = DeviceStream(device: "bench", config: .default)
        let results = Self.ingest(Self.voltLines(volts, seqs: seqs), into: &stream)
        #expect(results.indices(of: .lostFrames).isEmpty)
    }
}

@Suite("Out of range")
struct RangeDetectorTests {
    static var limited: ModelConfig {
        var config = ModelConfig.default
        config.minVolts = 2.0
        config.maxVolts = 3.0
        return config
    }

    @Test func aboveAndBelowTheLimitsFire() {
        var volts = Bench.quiet(seconds: 30, seed: 21)
        volts[3] = 3.2       // during warm-up: no history needed for hard limits
        volts[200] = 1.9
        let results = Bench.score(volts, config: Self.limited)
        expectResultInvariants(results, config: Self.limited)
        #expect(results.indices(of: .outOfRange) == [3, 200])
        #expect(results[3].reasons.contains { $0.contains("above the 3.000 V limit") }, "\(results[3].reasons)")
        #expect(results[200].reasons.contains { $0.contains("below the 2.000 V limit") }, "\(results[200].reasons)")
    }

    @Test func insideTheLimitsIsQuiet() {
        let results = Bench.score(Bench.quiet(seconds: 120, seed: 22), config: Self.limited)
        #expect(results.indices(of: .outOfRange).isEmpty)
        #expect(results.anomalyIndices.isEmpty)
    }

    @Test func withoutLimitsNothingIsOutOfRange() {
        var volts = Bench.quiet(seconds: 30, seed: 23)
        volts[3] = 900
        #expect(Bench.score(volts).indices(of: .outOfRange).isEmpty)
    }

    @Test func oneSidedLimit() {
        var config = ModelConfig.default
        config.maxVolts = 4.5
        var volts = Bench.quiet(seconds: 30, seed: 24)
        volts[5] = -100
        volts[6] = 4.6
        #expect(Bench.score(volts, config: config).indices(of: .outOfRange) == [6])
    }
}

@Suite("Record")
struct RecordDetectorTests {
    /// Reasons of the record detector ("above the highest" / "below the lowest") per result.
    static func records(_ results: [ScoredResult]) -> [Int] {
        results.indices.filter { i in results[i].reasons.contains { $0.contains("the highest value in") || $0.contains("the lowest value in") } }
    }

    @Test func aJumpBeyondAnythingTheSignalHasDoneAlarmsThoughJumpsOfItsSizeAreRoutine() {
        // A server's latency once a minute for four days: 45 ms ± 1.5, with a jump up of 10 to
        // 40 ms every half hour or so and down by up to 12 ms now and then, all routine for it.
        // Then one answer at 19 ms: a jump no bigger than its routine ones, but 26 ms down is
        // further below than it has ever been (a service answering nothing).
        var config = ModelConfig.default
        config.sampleRate = 1.0 / 60
        var rng = SplitMix64(seed: 71)
        var volts = (0..<(4 * 1_440)).map { _ in 45 + 1.5 * rng.gaussian() }
        var i = 0
        while i < volts.count {
            volts[i] += rng.positiveUnit() < 0.7 ? 10 + 30 * rng.positiveUnit() : -6 - 6 * rng.positiveUnit()
            i += 15 + Int(30 * rng.positiveUnit())
        }
        let event = 3 * 1_440 + 500
        volts[event] = 19
        let results = Bench.score(volts, config: config, periodMs: 60_000)
        expectResultInvariants(results, config: config)
        #expect(results[event].isAnomaly, "\(results[event].anomalyScore) \(results[event].reasons)")
        #expect(results[event].kinds.contains(.dip))
        #expect(Self.records(results) == [event], "the only record: \(Self.records(results).prefix(5))")
        // Its size alone says nothing new: the dip rule, which has seen such jumps (upwards),
        // gives no reason of its own.
        let reasons = results[event].reasons
        #expect(reasons.count == 1 && reasons[0].contains("below the lowest value in"), "\(reasons)")
    }

    @Test func aSlowTrendAndANewLevelThatStaysAreNewsOnceAtMost() {
        // A battery bank logged once a minute for five days, rising 0.1 V a day with 20 mV of
        // noise: a new high every day, never by a jump. Then it steps 1 V up and stays.
        var config = ModelConfig.default
        config.sampleRate = 1.0 / 60
        var rng = SplitMix64(seed: 72)
        var volts = (0..<(5 * 1_440)).map { i in 12 + 0.1 * Double(i) / 1_440 + 0.02 * rng.gaussian() }
        let step = 4 * 1_440
        for i in step..<volts.count { volts[i] += 1 }
        let results = Bench.score(volts, config: config, periodMs: 60_000)
        let records = Self.records(results)
        #expect(records == [step], "at the step only: \(records.prefix(5))")
    }
}

@Suite("Stuck")
struct StuckDetectorTests {
    @Test func constantFor30SecondsAfterANoisyBaselineIsStuck() {
        var volts = Bench.quiet(seconds: 120, seed: 31)
        let frozen = volts[eventAt - 1]
        for i in eventAt..<(eventAt + 300) { volts[i] = frozen }
        let results = Bench.score(volts)
        expectResultInvariants(results)
        let stuck = results.indices(of: .stuck)
        #expect(!stuck.isEmpty)
        // Not before `stuck_seconds` (10 s) of repeats, and until the signal moves again.
        #expect(stuck.allSatisfy { $0 >= eventAt + 90 && $0 <= eventAt + 305 }, "\(stuck.first ?? -1)...\(stuck.last ?? -1)")
        // Reported for as long as it lasts (the next noisy sample may repeat the value by chance).
        #expect((eventAt + 299)...(eventAt + 305) ~= stuck.last ?? 0, "\(stuck.last ?? -1)")
        #expect(results[stuck[0]].reasons.contains { $0.hasPrefix("stuck:") && $0.contains("unchanged") })
        #expect(results[(eventAt + 310)...].allSatisfy { !$0.kinds.contains(.stuck) })
    }

    @Test("a quiet quantised signal that often repeats values is not stuck", arguments: [0.001, 0.002, 0.005])
    func quantisedRepeatsAreNotStuck(sigma: Double) {
        // With 1 mV of noise on a 4.9 mV step, about 97 % of consecutive samples are equal, and
        // 10 s runs of one value happen every few minutes by chance.
        let volts = Bench.quiet(seconds: 600, sigma: sigma, seed: 32)
        var longest = 0, run = 0
        for i in 1..<volts.count {
            run = volts[i] == volts[i - 1] ? run + 1 : 0
            longest = max(longest, run)
        }
        let results = Bench.score(volts)
        expectResultInvariants(results)
        #expect(results.indices(of: .stuck).isEmpty, "longest run \(longest + 1) samples")
        #expect(results.anomalyIndices.isEmpty)
    }

    @Test func aValueTheSignalRestsAtIsNotStuckThereButAFreezeElsewhereIs() {
        // A pump's current, once a second: off (exactly 0 A) for a while, on (2.5 A, noisy) for
        // two minutes, again and again. Each rest is longer than any before, as idle times are.
        var config = ModelConfig.default
        config.sampleRate = 1
        var rng = SplitMix64(seed: 34)
        var volts: [Double] = []
        var rests: [Range<Int>] = []
        for restSeconds in [60, 90, 120, 600, 1_200, 3_000] {
            for _ in 0..<120 { volts.append(Bench.quantise(2.5 + 0.05 * rng.gaussian())) }
            rests.append(volts.count..<(volts.count + restSeconds))
            volts += Array(repeating: 0, count: restSeconds)
        }
        for _ in 0..<120 { volts.append(Bench.quantise(2.5 + 0.05 * rng.gaussian())) }
        // Then the ADC freezes while the pump runs.
        let freeze = volts.count..<(volts.count + 120)
        volts += Array(repeating: volts.last!, count: freeze.count)
        for _ in 0..<60 { volts.append(Bench.quantise(2.5 + 0.05 * rng.gaussian())) }
        let results = Bench.score(volts, config: config, periodMs: 1_000)
        expectResultInvariants(results, config: config)
        // Once it has rested at 0 A and moved on three times, zero is where it rests.
        let stuckAtRest = rests[3...].flatMap { $0 }.filter { results[$0].kinds.contains(.stuck) }
        #expect(stuckAtRest.count == 0, "\(stuckAtRest.count) stuck results while resting, first \(results[stuckAtRest.first ?? 0].reasons)")
        let frozen = freeze.filter { results[$0].kinds.contains(.stuck) }
        #expect(frozen.first.map { $0 - freeze.lowerBound <= 20 } == true, "the freeze flagged within 20 s: \(frozen.first.map { $0 - freeze.lowerBound } ?? -1)")
        #expect(frozen.last == freeze.upperBound - 1, "and while it lasts")
    }

    @Test func noisyRailIsNotStuck() {
        // Held at a level but still moving by one step: alive.
        var volts = Bench.quiet(seconds: 120, seed: 33)
        for i in eventAt..<volts.count { volts[i] = i % 2 == 0 ? 2.5 : 2.5 + Bench.step }
        #expect(Bench.score(volts).indices(of: .stuck).isEmpty)
    }
}

@Suite("Noise and oscillation")
struct NoiseDetectorTests {
    @Test func theBendsUpperQuartileIsTheSortedOnes() {
        // The quartile is taken from the largest quarter kept in order; it must equal the
        // quartile of all the second differences sorted, ties and window sizes included.
        var rng = SplitMix64(seed: 0xBE4D)
        for trial in 0..<2_000 {
            let n = [NoiseDetector.windowSamples, 16, 20, 50][trial % 4]
            // Quantised differences make ties common; some trials are all ties.
            let steps = trial % 7 == 0 ? 1 : 9
            let d = (0..<(n + 1 + trial % 5)).map { _ in Double(Int(rng.next() % UInt64(steps)) - 4) * 0.25 }
            let second = (1..<d.count).suffix(n).map { abs(d[$0] - d[$0 - 1]) }.sorted()
            let position = NoiseDetector.quartile * Double(n - 1)
            let low = Int(position)
            let expected = (second[low] + (second[min(low + 1, n - 1)] - second[low]) * (position - Double(low))) / 3.0.squareRoot()
            let got = d.withUnsafeBufferPointer { NoiseDetector.bendingLevel(of: $0, over: n) }
            #expect(got == expected, "n \(n), trial \(trial): \(got) against \(expected)")
        }
    }

    @Test func aNewNoiseLevelIsNamedWithinSixSamplesOnTheMedian() {
        // Eight times the usual noise from one sample on: the quartile of |Δ| rises once about
        // a quarter of its window is noisy, so the window's length is how long that takes
        // (with two seconds of window at 10 Hz, the median was 8 samples).
        var onsets: [Int] = []
        for seed in UInt64(1)...9 {
            let before = Bench.quiet(seconds: 600, sigma: 0.005, seed: 700 + seed)
            let after = Bench.quiet(seconds: 20, sigma: 0.04, seed: 800 + seed)
            let results = Bench.score(before + after)
            let named = (before.count..<results.count).first { results[$0].kinds.contains(.noise) }
            #expect(named != nil, "seed \(seed): never named noise")
            onsets.append((named ?? results.count) - before.count)
        }
        onsets.sort()
        #expect(onsets[onsets.count / 2] <= 6, "samples from onset to `noise`: \(onsets)")
        #expect(onsets.last! <= 8, "samples from onset to `noise`: \(onsets)")
    }

    @Test func tenfoldNoiseIsNoise() {
        var volts = Bench.quiet(seconds: 120, seed: 41)
        var rng = SplitMix64(seed: 4141)
        for i in eventAt..<(eventAt + 200) { volts[i] = Bench.quantise(2.5 + 0.05 * rng.gaussian()) }
        let results = Bench.score(volts)
        expectResultInvariants(results)
        let noise = results.indices(of: .noise)
        #expect(noise.count > 50, "most of the 20 s should be flagged, got \(noise.count)")
        #expect(noise.allSatisfy { $0 >= eventAt && $0 < eventAt + 230 }, "\(noise.first ?? -1)...\(noise.last ?? -1)")
        #expect(results.indices(of: .oscillation).isEmpty, "random noise has no period")
        if let first = noise.first {
            #expect(results[first].reasons.contains { $0.hasPrefix("noise:") && $0.contains("× the usual") })
        }
    }

    @Test func oneSecondSineIsOscillation() {
        var volts = Bench.quiet(seconds: 120, seed: 42)
        for i in eventAt..<(eventAt + 200) {
            volts[i] = Bench.quantise(volts[i] + 0.1 * sin(2 * Double.pi * Double(i - eventAt) / 10))
        }
        let results = Bench.score(volts)
        expectResultInvariants(results)
        let oscillation = results.indices(of: .oscillation)
        #expect(oscillation.count > 50, "got \(oscillation.count)")
        #expect(oscillation.allSatisfy { $0 >= eventAt && $0 < eventAt + 230 })
        if let first = oscillation.first {
            let reason = results[first].reasons.first { $0.hasPrefix("oscillation:") }
            #expect(reason?.contains("a 1.0 s periodic component") == true, "\(results[first].reasons)")
        }
    }

    @Test func quietBaselineHasNoNoiseOrOscillation() {
        let results = Bench.score(Bench.quiet(seconds: 600, seed: 43))
        #expect(results.indices(of: .noise).isEmpty)
        #expect(results.indices(of: .oscillation).isEmpty)
    }

    @Test func slowSineIsNeitherNoiseNorOscillation() {
        // A 60 s, 20 mV wave is a slow change of level, not sample-to-sample variation.
        var volts = Bench.quiet(seconds: 300, seed: 44)
        for i in volts.indices { volts[i] = Bench.quantise(volts[i] + 0.02 * sin(2 * Double.pi * Double(i) / 600)) }
        let results = Bench.score(volts)
        #expect(results.indices(of: .noise).isEmpty)
        #expect(results.indices(of: .oscillation).isEmpty)
    }
}

@Suite("Drift")
struct DriftDetectorTests {
    /// 15 minutes of quiet (the detector arms after about 11), then a 0.5 V ramp over 120 s,
    /// then the new level for a minute.
    static let rampStart = 9_000
    static let rampLength = 1_200

    static func rampSignal(seed: UInt64) -> [Double] {
        var volts = Bench.quiet(seconds: 1_080, seed: seed)
        for i in rampStart..<volts.count {
            let progress = min(1, Double(i - rampStart) / Double(rampLength))
            volts[i] = Bench.quantise(volts[i] + 0.5 * progress)
        }
        return volts
    }

    @Test func slowRampAfterQuietHistoryIsDrift() {
        let results = Bench.score(Self.rampSignal(seed: 51))
        expectResultInvariants(results)
        #expect(results[..<Self.rampStart].allSatisfy { !$0.isAnomaly }, "15 quiet minutes raise nothing")
        let drift = results.indices(of: .drift)
        #expect(!drift.isEmpty)
        if let first = drift.first {
            #expect(first > Self.rampStart && first < Self.rampStart + Self.rampLength, "found at \(first)")
            #expect(results[first].reasons.contains { $0.hasPrefix("drift: +") && $0.contains("V/min") }, "\(results[first].reasons)")
        }
        // The ramp is slow: it must not be mistaken for spikes.
        #expect(results.indices(of: .spike).isEmpty)
        #expect(results.indices(of: .levelShift).isEmpty)
    }

    @Test func quietHalfHourRaisesNothingAtAll() {
        let results = Bench.score(Bench.quiet(seconds: 1_800, seed: 52))
        expectResultInvariants(results)
        #expect(results.allKinds.isEmpty, "\(results.allKinds)")
        #expect(results.anomalyIndices.isEmpty)
        #expect(results.allSatisfy { $0.severity == .normal })
    }

    @Test func beforeTenMinutesOfHistoryADriftMustClearThreeTimesTheBar() {
        // Documented: "usual wander" is known after the delay plus seven windows of history;
        // before that a drift must be three times as large, so a strong ramp early on (the
        // fake board's drift scenario) is flagged and a modest one is not judged on a guess.
        func ramp(volts perMinute: Double) -> [Double] {
            var volts = Bench.quiet(seconds: 420, seed: 53)
            for i in 1_800..<volts.count {
                volts[i] = Bench.quantise(volts[i] + perMinute * Double(i - 1_800) / 600)
            }
            return volts
        }
        #expect(Bench.score(ramp(volts: 0.1)).indices(of: .drift).isEmpty, "0.1 V/min in minute 3 is not judged yet")
        #expect(!Bench.score(ramp(volts: 0.5)).indices(of: .drift).isEmpty, "0.5 V/min is flagged even that early")
    }

    @Test func disabledDriftStaysQuietOnARamp() {
        var config = ModelConfig.default
        config.disabledDetectors = [.drift]
        let results = Bench.score(Self.rampSignal(seed: 51), config: config)
        #expect(results.indices(of: .drift).isEmpty)
    }
}
