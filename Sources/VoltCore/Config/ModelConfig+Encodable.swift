/// The configuration as `GET /api/model` and `hello` report it: every key, as in
/// `model_config.json` (``ModelConfig/knownKeys``), unset options as `null`.
extension ModelConfig: Encodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case anomalyThreshold = "anomaly_threshold"
        case windowSize = "window_size"
        case sampleRate = "sample_rate"
        case watchThreshold = "watch_threshold"
        case criticalThreshold = "critical_threshold"
        case baselineSeconds = "baseline_seconds"
        case spikeMADs = "spike_mads"
        case minNoiseVolts = "min_noise_volts"
        case driftSeconds = "drift_seconds"
        case driftVolts = "drift_volts"
        case dropoutPeriods = "dropout_periods"
        case stuckSeconds = "stuck_seconds"
        case noiseRatio = "noise_ratio"
        case oscillationRatio = "oscillation_ratio"
        case adaptSeconds = "adapt_seconds"
        case rarityDecades = "rarity_decades"
        case historySeconds = "history_seconds"
        case minVolts = "min_volts"
        case maxVolts = "max_volts"
        case disabledDetectors = "disabled_detectors"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(anomalyThreshold, forKey: .anomalyThreshold)
        try c.encode(windowSize, forKey: .windowSize)
        try c.encode(sampleRate, forKey: .sampleRate)
        try c.encode(watchThreshold, forKey: .watchThreshold)
        try c.encode(criticalThreshold, forKey: .criticalThreshold)
        try c.encode(baselineSeconds, forKey: .baselineSeconds)
        try c.encode(spikeMADs, forKey: .spikeMADs)
        try c.encode(minNoiseVolts, forKey: .minNoiseVolts)
        try c.encode(driftSeconds, forKey: .driftSeconds)
        try c.encode(driftVolts, forKey: .driftVolts)
        try c.encode(dropoutPeriods, forKey: .dropoutPeriods)
        try c.encode(stuckSeconds, forKey: .stuckSeconds)
        try c.encode(noiseRatio, forKey: .noiseRatio)
        try c.encode(oscillationRatio, forKey: .oscillationRatio)
        try c.encode(adaptSeconds, forKey: .adaptSeconds)
        try c.encode(rarityDecades, forKey: .rarityDecades)
        try c.encode(historySeconds, forKey: .historySeconds)
        try c.encode(minVolts, forKey: .minVolts)
        try c.encode(maxVolts, forKey: .maxVolts)
        try c.encode(AnomalyKind.allCases.filter { disabledDetectors.contains($0) }.map(\.rawValue),
                     forKey: .disabledDetectors)
    }
}
