import Foundation
import Testing
@testable import VoltCore

/// `model_config.json`: the original's three keys, a default for everything else, and every
/// mistake a person can make refused with a message naming the key.
@Suite("ModelConfig")
struct ModelConfigTests {
    static let required: [String: String] = ["anomaly_threshold": "0.7", "window_size": "50", "sample_rate": "10"]

    /// A document holding the three required keys, with `changes` applied (a nil value drops
    /// the key). Values are JSON text.
    static func document(_ changes: [String: String?] = [:]) -> String {
        var fields = required
        for (key, value) in changes { fields[key] = value }
        return "{" + fields.keys.sorted().map { "\"\($0)\": \(fields[$0]!)" }.joined(separator: ", ") + "}"
    }

    /// The error a document raises, or nil when it is accepted.
    static func error(_ json: String) -> ConfigError? {
        do {
            _ = try ModelConfig.parse(json: json)
            return nil
        } catch {
            return error
        }
    }

    /// Expects exactly one problem, with `key`, whose message contains `fragment`.
    static func expectSingleIssue(
        _ json: String, key: String?, containing fragment: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = error(json) else {
            Issue.record("accepted: \(json)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.issues.count == 1, "\(error)", sourceLocation: sourceLocation)
        #expect(error.issues.first?.key == key, "\(error)", sourceLocation: sourceLocation)
        #expect(error.issues.first?.message.contains(fragment) == true, "\(error)", sourceLocation: sourceLocation)
        if let key {
            #expect(error.description.contains("  - \(key): "), "the printed message names the key: \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Accepted documents

    @Test func theThreeOriginalKeysAreEnough() throws {
        let config = try ModelConfig.parse(json: Self.document())
        #expect(config == ModelConfig.default)
    }

    @Test func theOriginalKeysKeepTheirMeaning() throws {
        let config = try ModelConfig.parse(json: Self.document([
            "anomaly_threshold": "0.85", "window_size": "30", "sample_rate": "2.5",
        ]))
        #expect(config.anomalyThreshold == 0.85)
        #expect(config.windowSize == 30)
        #expect(config.sampleRate == 2.5)
        #expect(config.periodMs == 400)
        #expect(config.dropoutTimeoutMs == 4_000)
    }

    @Test func boundaryValuesAreAccepted() throws {
        let config = try ModelConfig.parse(json: Self.document([
            "anomaly_threshold": "1", "window_size": "5", "sample_rate": "1000", "spike_mads": "1",
            "dropout_periods": "1.5", "min_volts": "-1000", "max_volts": "1000", "watch_threshold": "0",
            "critical_threshold": "1", "baseline_seconds": "0.005",
        ]))
        #expect(config.anomalyThreshold == 1 && config.windowSize == 5 && config.sampleRate == 1_000)
        #expect(config.watchThreshold == 0 && config.criticalThreshold == 1)
    }

    @Test func shippedFileEqualsTheDefaults() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/model_config.json")
        let bytes = try [UInt8](Data(contentsOf: url))
        let config = try ModelConfig.parse(json: bytes, source: url.path)
        #expect(config == ModelConfig.default)
        #expect(config.effectiveWatchThreshold == ModelConfig.default.effectiveWatchThreshold)
        #expect(config.effectiveCriticalThreshold == ModelConfig.default.effectiveCriticalThreshold)
        #expect(config.dropoutTimeoutMs == 1_000)
        #expect(config.enabledKinds == AnomalyKinds(AnomalyKind.allCases))
    }

    @Test func jsonTextParsesBackToAnEqualConfig() throws {
        var custom = ModelConfig(anomalyThreshold: 0.85, windowSize: 30, sampleRate: 2.5)
        custom.watchThreshold = 0.5
        custom.criticalThreshold = 0.9
        custom.baselineSeconds = 600.5
        custom.spikeMADs = 9.75
        custom.minNoiseVolts = 0.0012
        custom.driftSeconds = 300
        custom.driftVolts = 0.123456789
        custom.dropoutPeriods = 4
        custom.stuckSeconds = 45
        custom.noiseRatio = 2.2
        custom.oscillationRatio = 5
        custom.adaptSeconds = 12.5
        custom.rarityDecades = 2.5
        custom.historySeconds = 7_200
        custom.minVolts = -0.5
        custom.maxVolts = 5.25
        custom.disabledDetectors = [.noise, .lostFrames]
        for config in [ModelConfig.default, custom] {
            let text = config.jsonText()
            #expect(try ModelConfig.parse(json: text) == config, "\(text)")
            try config.validate()
        }
        // Every key is written, in the documented order.
        let text = custom.jsonText()
        let positions = ModelConfig.knownKeys.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(!positions.contains(nil))
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(text.contains(#""disabled_detectors": ["noise", "lost_frames"]"#))
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(object?.count == ModelConfig.knownKeys.count)
    }

    @Test func slowSensorWithALongEnoughBaselineIsAccepted() throws {
        // One sample every 5 minutes; the baseline (at least one window) must then be long.
        let config = try ModelConfig.parse(json: Self.document([
            "sample_rate": "0.00333", "window_size": "12", "baseline_seconds": "86400",
        ]))
        #expect(config.sampleRate == 0.00333)
        #expect(abs(config.periodMs - 300_300.3) < 0.1, "about 5 minutes")
        let minutes = config.dropoutTimeoutMs / 60_000
        #expect(minutes > 50 && minutes < 50.1, "10 periods: about 50 minutes, got \(minutes)")

        // It scores: samples 5 minutes apart are no dropout, 2 hours of silence is.
        var scorer = Scorer(config: config)
        var t = Bench.startMs
        var results: [ScoredResult] = []
        for v in Bench.quiet(seconds: 100 / 0.00333, rate: 0.00333, seed: 1) {
            t += 300_000
            results.append(scorer.score(Sample(volts: v, receivedAtMs: t)))
        }
        expectResultInvariants(results, config: config)
        #expect(results.count == 100)
        #expect(results.anomalyIndices.isEmpty, "\(results.allKinds)")
        let late = scorer.score(Sample(volts: 2.5, receivedAtMs: t + 7_200_000))
        #expect(late.kinds.contains(.dropout))
    }

    @Test func slowSensorWithOnlyTheOriginalKeysIsAccepted() throws {
        // The original backend's file for a slow sensor: just its three keys.
        let json = Self.document(["sample_rate": "0.00333"])
        let config = try ModelConfig.parse(json: json)
        #expect(abs(config.dropoutTimeoutMs / 60_000 - 50) < 0.1)
        // The default baseline scales: two windows of samples five minutes apart.
        #expect(config.baselineSeconds == nil)
        #expect(abs(config.effectiveBaselineSeconds - 2 * 50 / 0.00333) < 1)
    }

    @Test func validateRefusesAnImpossibleConfigBuiltInCode() {
        var config = ModelConfig.default
        config.anomalyThreshold = 1.5
        config.windowSize = 2
        #expect(throws: ConfigError.self) { try config.validate() }
        do {
            try config.validate()
        } catch {
            #expect(Set(error.issues.compactMap(\.key)) == ["anomaly_threshold", "window_size"])
        }
        #expect(throws: Never.self) { try ModelConfig.default.validate() }
    }

    // MARK: Refused documents

    @Test("each required key is required", arguments: ModelConfig.requiredKeys)
    func missingRequiredKey(key: String) {
        let dropped: [String: String?] = [key: nil]
        Self.expectSingleIssue(Self.document(dropped), key: key, containing: "required")
    }

    @Test func unknownKeyWithATypoSuggestsTheKnownKey() {
        let changes: [String: String?] = ["anomaly_treshold": "0.7", "anomaly_threshold": nil]
        let error = Self.error(Self.document(changes))
        let typo = error?.issues.first { $0.key == "anomaly_treshold" }
        #expect(typo?.message == #"unknown key (did you mean "anomaly_threshold"?)"#, "\(String(describing: error))")
        // The misspelt key does not count as the real one.
        #expect(error?.issues.contains { $0.key == "anomaly_threshold" && $0.message.contains("required") } == true)
        #expect(error?.issues.count == 2)
    }

    @Test("typos and spellings of known keys", arguments: [
        ("windowsize", "window_size"), ("Window-Size", "window_size"), ("sample_rte", "sample_rate"),
        ("max_volt", "max_volts"), ("disabled_detector", "disabled_detectors"), ("spike_mad", "spike_mads"),
    ])
    func typoSuggestion(typo: String, known: String) {
        Self.expectSingleIssue(Self.document([typo: "1"]), key: typo, containing: #"did you mean "\#(known)"?"#)
    }

    @Test("unknown keys without a close match get no suggestion", arguments: ["colour", "frobnicate_everything", "x", "model"])
    func unknownKeyWithoutSuggestion(key: String) {
        Self.expectSingleIssue(Self.document([key: "1"]), key: key, containing: "unknown key")
        #expect(Self.error(Self.document([key: "1"]))?.issues.first?.message == "unknown key")
    }

    @Test("wrong types", arguments: [
        ("anomaly_threshold", #""0.7""#, "must be a number, not a string"),
        ("sample_rate", "true", "must be a number, not a boolean"),
        ("sample_rate", "null", "must be a number, not null"),
        ("spike_mads", "[14]", "must be a number, not an array"),
        ("drift_volts", #"{"v": 1}"#, "must be a number, not an object"),
        ("window_size", "50.5", "must be a whole number, not 50.5"),
        ("window_size", #""50""#, "must be a whole number, not a string"),
        ("window_size", "1e20", "must be a whole number"),
        ("max_volts", #""5V""#, "must be a number, not a string"),
        ("disabled_detectors", #"["spike", 1]"#, "must hold only strings, found a number"),
        ("disabled_detectors", #""spike""#, "must be an array of detector names, not a string"),
        ("disabled_detectors", #"["spikes"]"#, #"unknown detector "spikes""#),
    ])
    func wrongType(key: String, value: String, fragment: String) {
        Self.expectSingleIssue(Self.document([key: value]), key: key, containing: fragment)
    }

    @Test("out-of-range values", arguments: [
        ("anomaly_threshold", "0"), ("anomaly_threshold", "1.5"), ("anomaly_threshold", "-0.1"),
        ("window_size", "2"), ("window_size", "4"), ("window_size", "100001"), ("window_size", "-50"),
        ("sample_rate", "0"), ("sample_rate", "-1"), ("sample_rate", "1000.5"),
        ("watch_threshold", "1.5"), ("watch_threshold", "-0.1"), ("critical_threshold", "1.01"),
        ("baseline_seconds", "0"), ("baseline_seconds", "604801"),
        ("spike_mads", "0.5"), ("min_noise_volts", "0"), ("min_noise_volts", "-0.001"),
        ("drift_seconds", "0"), ("drift_volts", "-1"), ("dropout_periods", "1"),
        ("stuck_seconds", "0"), ("noise_ratio", "-1"), ("noise_ratio", "1"), ("oscillation_ratio", "0.5"),
        ("min_volts", "-1001"), ("max_volts", "1e9"),
        ("adapt_seconds", "0"), ("adapt_seconds", "-5"), ("rarity_decades", "0"), ("rarity_decades", "13"),
        ("history_seconds", "0"),
    ])
    func outOfRange(key: String, value: String) {
        Self.expectSingleIssue(Self.document([key: value]), key: key, containing: "out of range")
    }

    @Test("rules between keys", arguments: [
        (["watch_threshold": "0.7"], "watch_threshold", "must be below anomaly_threshold"),
        (["watch_threshold": "0.8"], "watch_threshold", "must be below anomaly_threshold"),
        (["critical_threshold": "0.6"], "critical_threshold", "must be at least anomaly_threshold"),
        (["min_volts": "3", "max_volts": "3"], "max_volts", "must be above min_volts"),
        (["min_volts": "4", "max_volts": "1"], "max_volts", "must be above min_volts"),
        (["baseline_seconds": "4.9"], "baseline_seconds", "shorter than window_size 50"),
        (["history_seconds": "4"], "history_seconds", "at least one window"),
        (["drift_seconds": "86400", "sample_rate": "100", "baseline_seconds": "60"], "drift_seconds", "1,000,000"),
    ] as [([String: String], String, String)])
    func crossKeyRule(changes: [String: String], key: String, fragment: String) {
        Self.expectSingleIssue(Self.document(changes), key: key, containing: fragment)
    }

    @Test func crossKeyRulesAcceptTheValidSide() throws {
        _ = try ModelConfig.parse(json: Self.document([
            "watch_threshold": "0.69", "critical_threshold": "0.7", "min_volts": "2.999", "max_volts": "3",
            "baseline_seconds": "5",
        ]))
    }

    @Test("not JSON at all", arguments: ["", "{not json", "anomaly_threshold = 0.7", "{\"anomaly_threshold\": 0.7", "\u{FEFF}\u{0}"])
    func notJSON(text: String) {
        Self.expectSingleIssue(text, key: nil, containing: "not valid JSON")
    }

    @Test("JSON that is not an object", arguments: [
        ("[1, 2]", "an array"), ("0.7", "a number"), (#""config""#, "a string"), ("null", "null"), ("true", "a boolean"),
    ])
    func notAnObject(text: String, kind: String) {
        Self.expectSingleIssue(text, key: nil, containing: "must hold a JSON object, not \(kind)")
    }

    @Test func everyProblemIsReportedAtOnce() {
        let json = """
            {"anomaly_threshold": 2, "window_size": 2.5, "noise_ratio": "x", "colour": "blue",
             "min_volts": 5, "max_volts": 1, "disabled_detectors": ["nosie"]}
            """
        guard let error = Self.error(json) else {
            Issue.record("accepted")
            return
        }
        let keys = error.issues.compactMap(\.key)
        #expect(Set(keys) == [
            "anomaly_threshold", "window_size", "sample_rate", "noise_ratio", "colour", "max_volts", "disabled_detectors",
        ], "\(error)")
        #expect(keys.count == 7, "one issue per problem: \(error)")
        for issue in error.issues {
            #expect(error.description.contains("  - \(issue.key!): \(issue.message)"))
        }
    }

    @Test func errorNamesTheFileAndTheExitCode() {
        #expect(ConfigError.exitCode == 78)
        do {
            _ = try ModelConfig.parse(json: "[]", source: "/etc/voltwatch/model_config.json")
            Issue.record("accepted")
        } catch {
            #expect(error.source == "/etc/voltwatch/model_config.json")
            #expect(error.description.hasPrefix("invalid configuration in /etc/voltwatch/model_config.json:\n  - "))
        }
    }
}

/// The keys issue 14 added: the scorer is scale-free unless told otherwise.
@Suite("Configuration: scale-free defaults")
struct ScaleFreeDefaultsTests {
    @Test func noAbsoluteVoltsAreNeededAndTheEffectiveConfigurationSaysSo() throws {
        let config = ModelConfig.default
        #expect(config.minNoiseVolts == nil && config.driftVolts == nil && config.minVolts == nil && config.maxVolts == nil)
        #expect(config.adaptSeconds == 30 && config.rarityDecades == 3 && config.historySeconds == nil)
        let text = config.jsonText()
        for key in ["\"min_noise_volts\": null", "\"drift_volts\": null", "\"adapt_seconds\": 30", "\"rarity_decades\": 3", "\"history_seconds\": null"] {
            #expect(text.contains(key), "\(key) missing from \(text)")
        }
        // Absolute limits stay available as options.
        let parsed = try ModelConfig.parse(json: #"{"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 10, "min_noise_volts": 0.01, "drift_volts": 0.2}"#)
        #expect(parsed.minNoiseVolts == 0.01 && parsed.driftVolts == 0.2)
    }

    @Test func adaptationIsAtLeastThreeSamplesAndTheHistoryAnHourOrLongEnoughForItsRarity() {
        var slow = ModelConfig(anomalyThreshold: 0.7, windowSize: 50, sampleRate: 1.0 / 300)
        #expect(slow.adaptSamples == 3, "30 s is a tenth of a sample at one sample per five minutes")
        #expect(abs(slow.historySamples - 3_000) < 1e-6, "3 × 10^3 samples: long enough to tell one in a thousand from never")
        slow.sampleRate = 10
        #expect(slow.adaptSamples == 300)
        #expect(abs(slow.historySamples - 36_000) < 1e-6, "an hour at 10 Hz")
    }
}
