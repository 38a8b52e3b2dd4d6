import Testing
@testable import VoltCore

/// `check-config` shows every key's value in effect and where it came from, never a bare null
/// where a value is derived.
@Suite("Effective configuration")
struct EffectiveConfigTests {
    @Test func derivedKeysShowTheirValueAndLearntOnesSaySo() throws {
        let config = try ModelConfig.parse(json: #"{"anomaly_threshold": 0.8, "window_size": 50, "sample_rate": 10, "spike_mads": 12}"#)
        let values = config.effectiveValues(givenKeys: ["anomaly_threshold", "window_size", "sample_rate", "spike_mads"])
        let byKey = Dictionary(uniqueKeysWithValues: values.map { ($0.key, ($0.value, $0.source)) })
        #expect(values.map(\.key) == ModelConfig.knownKeys)
        #expect(byKey["spike_mads"]! == ("12", .file))
        #expect(byKey["noise_ratio"]! == ("3", .defaultValue))
        #expect(byKey["watch_threshold"]!.0 == "0.56")
        #expect(byKey["critical_threshold"]!.0 == "0.92")
        #expect(byKey["baseline_seconds"]!.0 == "120")
        #expect(byKey["history_seconds"]!.0 == "3600")
        if case .learnt = byKey["drift_volts"]!.1 {} else { Issue.record("drift_volts is learnt from the signal") }
        #expect(values.filter { $0.value == "null" }.allSatisfy { if case .file = $0.source { false } else { true } })
    }

    @Test func rarityMeansFewerThanThreeTimesInTheHistoryAtAnyRate() throws {
        // At 10 Hz an hour is 36,000 samples: the bar is log10(36,000 / 3), above the 3 decades
        // of the file. At one sample every five minutes the history is 3,000 samples and the
        // two agree.
        let fast = try ModelConfig.parse(json: #"{"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 10}"#)
        #expect(abs(fast.rarityBarDecades - 4.0792) < 1e-4)
        let slow = try ModelConfig.parse(json: #"{"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 0.0033333333333333335}"#)
        #expect(abs(slow.rarityBarDecades - 3) < 1e-9)
        var strict = fast
        strict.rarityDecades = 5
        #expect(strict.rarityBarDecades == 5, "a stricter rarity_decades is kept")
        #expect(fast.keepsHabits, "an hour is shorter than four days")
        #expect(!slow.keepsHabits, "3,000 five-minute samples are ten days")
    }

    @Test func aValueGivenInTheFileIsShownAsGiven() throws {
        let config = try ModelConfig.parse(json: #"{"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 10, "watch_threshold": 0.3}"#)
        let watch = config.effectiveValues(givenKeys: ["watch_threshold"]).first { $0.key == "watch_threshold" }!
        #expect(watch.value == "0.3" && watch.source == .file)
    }
}
