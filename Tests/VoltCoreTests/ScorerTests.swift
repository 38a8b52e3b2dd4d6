import Testing
@testable import VoltCore

/// Properties of the scorer as a whole: what every result promises, how trust grows, how the
/// configuration steers it, and that it is a pure function of its input.
@Suite("Scorer")
struct ScorerTests {
    @Test func eventfulSignalKeepsEveryResultPromise() {
        let results = Bench.score(Bench.eventful(seed: 1))
        expectResultInvariants(results)
        // The scenario really is eventful, so the invariants were tested on anomalies too.
        let kinds = results.allKinds
        for kind in [AnomalyKind.spike, .dip, .stuck, .noise, .oscillation, .dropout] {
            #expect(kinds.contains(kind), "\(kind) missing from \(kinds)")
        }
        #expect(results.contains { $0.severity == .critical })
        #expect(results.contains { $0.severity == .normal })
    }

    @Test func confidenceIsLowWhileWarmingUpAndHighOnceWarm() {
        let results = Bench.score(Bench.quiet(seconds: 780, seed: 2))
        #expect(results[..<10].allSatisfy { $0.confidence < 0.5 }, "\(results[..<10].map(\.confidence))")
        #expect(results[0].confidence < results[9].confidence, "trust grows with the windows")
        // The long (drift) history fills after about 11 minutes; then quiet verdicts are sure
        // (less so for the odd sample whose score comes closer to the threshold).
        let warm = results[(results.count - 600)...].map(\.confidence)
        #expect(warm.allSatisfy { $0 > 0.5 }, "\(warm.min()!)")
        #expect(warm.reduce(0, +) / Double(warm.count) > 0.9)
        let early = results[100..<700].map(\.confidence)
        #expect(early.allSatisfy { $0 < 0.61 }, "before the long windows fill, trust is capped")
    }

    @Test func confidenceOfAClearAnomalyIsHigh() {
        var volts = Bench.quiet(seconds: 780, seed: 3)
        volts[volts.count - 10] += 1.0
        let results = Bench.score(volts)
        let spike = results[volts.count - 10]
        #expect(spike.isAnomaly)
        #expect(spike.confidence > 0.9, "\(spike.confidence)")
    }

    @Test func scoreMapIsMonotonicAndPinnedAtTheShippedThreshold() {
        #expect(Scorer.score(certainty: 0) == 0)
        #expect(Scorer.score(certainty: -1) == 0)
        #expect(abs(Scorer.score(certainty: 1) - 0.7) < 1e-12)
        var previous = 0.0
        for i in 1...1_000 {
            let s = Scorer.score(certainty: Double(i) / 100)
            #expect(s >= previous && s <= 1)
            previous = s
        }
        for s in [0.1, 0.5, 0.7, 0.9, 0.999] {
            #expect(abs(Scorer.score(certainty: Scorer.certainty(forScore: s)) - s) < 1e-12)
        }
    }

    @Test func insideAStrongAlarmOnlyTheOnsetAndEscalationsScoreAboveAHairOverTheThreshold() {
        // Twenty seconds of a volt of noise on a line that usually moves by one ADC count: the
        // noise statistic is a hundred times its usual level for the whole burst. Every sample
        // is an anomaly, but only the onset and the escalations (certainty more than twice the
        // peak so far) are news; the rest must sit just above the threshold however strong,
        // so a threshold a hair above it (as a sweep finds) keeps the news and drops the rest.
        var volts = Bench.quiet(seconds: 780, seed: 5)
        let burst = (volts.count - 400)..<(volts.count - 200)
        for i in burst { volts[i] += i.isMultiple(of: 2) ? 1 : -1 }
        let results = Bench.score(volts)
        let alarmed = burst.filter { results[$0].isAnomaly }
        #expect(alarmed.count > 150, "the burst alarms while it lasts")
        let threshold = ModelConfig.default.anomalyThreshold
        let news = alarmed.filter { results[$0].anomalyScore > threshold + 0.001 }
        #expect(news.first == alarmed.first, "the onset is news")
        #expect(news.count <= 8, "only escalations beside the onset: \(news.count) of \(alarmed.count)")
    }

    @Test func sameInputTwiceGivesIdenticalResults() {
        let samples = Bench.eventful(seed: 4)
        let first = Bench.score(samples)
        let second = Bench.score(samples)
        #expect(first == second)
        // And a reset scorer is a fresh one.
        var scorer = Scorer(config: .default)
        _ = samples.prefix(500).map { scorer.score($0) }
        scorer.reset()
        #expect(scorer.samplesSeen == 0)
        #expect(samples.map { scorer.score($0) } == first)
    }

    @Test func loweringTheThresholdNeverLosesAnAnomaly() {
        let samples = Bench.eventful(seed: 5)
        var previous: Set<Int> = []
        var counts: [Int] = []
        for threshold in [0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2] {
            var config = ModelConfig.default
            config.anomalyThreshold = threshold
            let results = Bench.score(samples, config: config)
            expectResultInvariants(results, config: config)
            let anomalous = Set(results.anomalyIndices)
            #expect(previous.isSubset(of: anomalous), "threshold \(threshold) lost \(previous.subtracting(anomalous).sorted())")
            previous = anomalous
            counts.append(anomalous.count)
        }
        #expect(counts.first! < counts.last!, "the sweep must actually change something: \(counts)")
    }

    @Test func loweringTheThresholdNeverLosesAnAnomalyOnceDriftIsArmed() {
        // Past 11 minutes the drift detector judges too, and it learns only from samples no
        // detector flagged: the threshold then steers what it learns, yet must stay monotonic.
        var samples = Bench.samples(DriftDetectorTests.rampSignal(seed: 10))
        for i in stride(from: 7_000, to: samples.count, by: 431) { samples[i].volts += 0.04 * Double(i % 5) }
        var previous: Set<Int> = []
        var counts: [Int] = []
        for threshold in [0.95, 0.7, 0.45, 0.2] {
            var config = ModelConfig.default
            config.anomalyThreshold = threshold
            let results = Bench.score(samples, config: config)
            let anomalous = Set(results.anomalyIndices)
            #expect(previous.isSubset(of: anomalous), "threshold \(threshold) lost \(previous.subtracting(anomalous).sorted().prefix(10))")
            previous = anomalous
            counts.append(anomalous.count)
        }
        #expect(counts.first! < counts.last!, "\(counts)")
    }

    @Test("disabling a detector silences it", arguments: [
        AnomalyKind.spike, .dip, .stuck, .noise, .oscillation, .dropout,
    ])
    func disabledDetector(kind: AnomalyKind) throws {
        let samples = Bench.eventful(seed: 6)
        #expect(!Bench.score(samples).indices(of: kind).isEmpty, "\(kind) fires when enabled")
        let config = try ModelConfig.parse(json: """
            {"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 10, "disabled_detectors": ["\(kind.rawValue)"]}
            """)
        #expect(!config.isEnabled(kind))
        #expect(!config.enabledKinds.contains(kind))
        let results = Bench.score(samples, config: config)
        expectResultInvariants(results, config: config)
        #expect(results.indices(of: kind).isEmpty)
        #expect(!results.contains { $0.reasons.contains { $0.hasPrefix(kind.rawValue + ":") } })
    }

    @Test func disablingASpikeLeavesTheSampleNormal() {
        var volts = Bench.quiet(seconds: 90, seed: 7)
        volts[600] += 0.5
        var config = ModelConfig.default
        config.disabledDetectors = [.spike]
        let results = Bench.score(volts, config: config)
        #expect(!results[600].isAnomaly, "\(results[600])")
        // Dips are another detector switch: still on.
        var dipped = Bench.quiet(seconds: 90, seed: 7)
        dipped[700] -= 0.5
        #expect(Bench.score(dipped, config: config).indices(of: .dip) == [700])
    }

    @Test func severityBandsFollowTheThresholds() {
        var config = ModelConfig.default
        #expect(config.effectiveWatchThreshold == 0.7 * 0.7)
        #expect(abs(config.effectiveCriticalThreshold - 0.88) < 1e-12)
        #expect(config.severity(for: 0) == .normal)
        #expect(config.severity(for: 0.489) == .normal)
        #expect(config.severity(for: 0.49) == .watch)
        #expect(config.severity(for: 0.6999) == .watch)
        #expect(config.severity(for: 0.7) == .warning)
        #expect(config.severity(for: 0.8799) == .warning)
        #expect(config.severity(for: 0.88) == .critical)
        #expect(config.severity(for: 1) == .critical)

        config.watchThreshold = 0.2
        config.criticalThreshold = 0.95
        #expect(config.severity(for: 0.19) == .normal)
        #expect(config.severity(for: 0.2) == .watch)
        #expect(config.severity(for: 0.94) == .warning)
        #expect(config.severity(for: 0.95) == .critical)
        #expect(Severity.normal < .watch && .watch < .warning && .warning < .critical)

        let results = Bench.score(Bench.eventful(seed: 8), config: config)
        expectResultInvariants(results, config: config)
    }

    @Test func resultsCarryTheSampleThrough() {
        var scorer = Scorer(config: .default)
        let r = scorer.score(Sample(volts: 2.345, receivedAtMs: 1_732_170_000_123, seq: 77, uptimeMs: 7_700, adcRaw: 480))
        #expect(r.voltage == 2.345)
        #expect(r.timestampMs == 1_732_170_000_123)
        #expect(r.seq == 77)
        #expect(scorer.samplesSeen == 1)
    }

    @Test func aReloadedConfigurationStartsTheWindowsAgain() {
        var stream = DeviceStream(device: "bench", config: .default)
        for s in Bench.samples(Bench.quiet(seconds: 30, seed: 9)) { _ = stream.ingest(sample: s) }
        #expect(stream.scorer.samplesSeen == 300)
        var config = ModelConfig.default
        config.anomalyThreshold = 0.8
        stream.apply(config)
        #expect(stream.config == config)
        #expect(stream.scorer.samplesSeen == 0)
        #expect(stream.counters.frames == 300, "counters describe the stream, not the model")
    }

    /// Every layer passes results by value; above 128 bytes each copy is a call to memcpy
    /// (ScoredResult.swift says why the fields are ordered as they are).
    @Test func aResultFitsInWhatTheCompilerCopiesInline() {
        #expect(MemoryLayout<ScoredResult>.size <= 128)
    }
}
