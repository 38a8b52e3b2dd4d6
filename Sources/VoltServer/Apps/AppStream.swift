import VoltCore

/// One app scorer: the device scorer, configured for samples an app sends, and the
/// few-samples rule that covers its warm-up.
///
/// App samples come when a person types them or a test script sends them, not every 100 ms, so
/// detectors that read time into the gaps between samples would fire on every one: an app
/// that sends no timestamps gets the stream without `dropout`, `lost_frames` (app samples have
/// no `seq` anyway) and `stuck` (defined as seconds of one repeated value: a person typing
/// 2.5 a hundred times has not found a frozen ADC). An app that sends timestamps with its
/// first sample says its samples have a time base, and keeps them all.
///
/// The device scorer needs `window_size` samples (50) before it trusts a spike, and a signal
/// that has moved before it learns a scale; the original flagged 9.9 V after three samples of
/// 2.5 V. ``FewSamplesRule`` scores every sample too, and the higher verdict wins.
struct AppStream {
    let name: String
    private(set) var base: ModelConfig
    let timed: Bool
    private var stream: DeviceStream
    private var early: FewSamplesRule
    /// The app's alarm episodes, over the verdicts it is sent (the device scorer's or the
    /// few-samples rule's, whichever is higher): the stream's own tracker sees only the first,
    /// and left an alarm of the rule's without an episode.
    private var episodes = EpisodeTracker(firstID: 1)

    init(name: String, base: ModelConfig, timed: Bool) {
        self.name = name
        self.base = base
        self.timed = timed
        self.stream = DeviceStream(device: name, config: Self.config(base, timed: timed))
        self.early = FewSamplesRule(config: base)
    }

    /// The agent's configuration as applied to app samples.
    static func config(_ base: ModelConfig, timed: Bool) -> ModelConfig {
        var config = base
        if !timed { config.disabledDetectors.formUnion([.dropout, .lostFrames, .stuck]) }
        return config
    }

    /// Scores one sample; `config` is the agent's current configuration (a reload starts the
    /// stream again, as it does for devices).
    mutating func score(volts: Double, timestampMs: Int64?, nowMs: Int64, config: ModelConfig) -> (ScoredResult, String) {
        if config != base {
            base = config
            stream = DeviceStream(device: name, config: Self.config(config, timed: timed))
            early = FewSamplesRule(config: config)
            // A reload ends the alarm in progress, as it does for devices.
            _ = episodes.close()
        }
        let sample = Sample(volts: volts, receivedAtMs: (timed ? timestampMs : nil) ?? nowMs)
        var result = stream.ingest(sample: sample)
        let rule = early.score(volts)
        if let rule, rule.anomalyScore > result.anomalyScore {
            result.anomalyScore = rule.anomalyScore
            result.isAnomaly = rule.isAnomaly
            result.confidence = rule.confidence
            result.severity = base.severity(for: rule.anomalyScore)
            result.kinds = rule.kinds
            result.reasons = rule.reasons
        }
        _ = episodes.observe(&result)
        return (result, name)
    }
}
