extension ModelConfig {
    /// Every key `model_config.json` may hold, in the order the effective configuration prints.
    public static let knownKeys: [String] = [
        "anomaly_threshold", "window_size", "sample_rate",
        "watch_threshold", "critical_threshold",
        "baseline_seconds", "spike_mads", "min_noise_volts", "drift_seconds", "drift_volts",
        "dropout_periods", "stuck_seconds", "noise_ratio", "oscillation_ratio",
        "adapt_seconds", "rarity_decades", "history_seconds",
        "min_volts", "max_volts", "disabled_detectors",
    ]

    /// The original backend's keys; a file without them is refused.
    public static let requiredKeys: [String] = ["anomaly_threshold", "window_size", "sample_rate"]

    /// Parses and validates a `model_config.json` document.
    ///
    /// Collects every problem before throwing: unknown keys (with the closest known key when it
    /// looks like a typo), missing required keys, wrong types and out-of-range values.
    public static func parse(json bytes: [UInt8], source: String? = nil) throws(ConfigError) -> ModelConfig {
        let object = try JSONValue.configurationObject(bytes, source: source, what: "the file")
        var reader = KeyReader(object: object)
        var config = ModelConfig()
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            var message = "unknown key"
            if let guess = closestKey(to: key) { message += " (did you mean \"\(guess)\"?)" }
            reader.issues.append(.init(key: key, message: message))
        }
        for key in requiredKeys where object[key] == nil {
            reader.issues.append(.init(key: key, message: "required (the original backend's key; see config/model_config.json)"))
        }
        if let v = reader.number("anomaly_threshold", in: 0.0...1.0, openLower: true) { config.anomalyThreshold = v }
        if let v = reader.integer("window_size", in: 5...100_000) { config.windowSize = v }
        if let v = reader.number("sample_rate", in: 0.0...1_000.0, openLower: true) { config.sampleRate = v }
        config.watchThreshold = reader.optionalNumber("watch_threshold", in: 0.0...1.0)
        config.criticalThreshold = reader.optionalNumber("critical_threshold", in: 0.0...1.0)
        config.baselineSeconds = reader.optionalNumber("baseline_seconds", in: 0.0...604_800.0, openLower: true)
        if let v = reader.number("spike_mads", in: 1.0...1_000.0) { config.spikeMADs = v }
        config.minNoiseVolts = reader.optionalNumber("min_noise_volts", in: 0.0...100.0, openLower: true)
        if let v = reader.number("drift_seconds", in: 0.0...86_400.0, openLower: true) { config.driftSeconds = v }
        config.driftVolts = reader.optionalNumber("drift_volts", in: 0.0...1_000.0, openLower: true)
        if let v = reader.number("dropout_periods", in: 1.5...1_000_000.0) { config.dropoutPeriods = v }
        if let v = reader.number("stuck_seconds", in: 0.0...604_800.0, openLower: true) { config.stuckSeconds = v }
        if let v = reader.number("noise_ratio", in: 1.0...1_000.0, openLower: true) { config.noiseRatio = v }
        if let v = reader.number("oscillation_ratio", in: 1.0...1_000.0, openLower: true) { config.oscillationRatio = v }
        if let v = reader.number("adapt_seconds", in: 0.0...604_800.0, openLower: true) { config.adaptSeconds = v }
        if let v = reader.number("rarity_decades", in: 0.0...12.0, openLower: true) { config.rarityDecades = v }
        config.historySeconds = reader.optionalNumber("history_seconds", in: 0.0...31_536_000.0, openLower: true)
        config.minVolts = reader.optionalNumber("min_volts", in: -FrameParser.maxAbsoluteVolts...FrameParser.maxAbsoluteVolts)
        config.maxVolts = reader.optionalNumber("max_volts", in: -FrameParser.maxAbsoluteVolts...FrameParser.maxAbsoluteVolts)
        if let names = reader.strings("disabled_detectors") {
            for name in names {
                if let kind = AnomalyKind(rawValue: name) {
                    config.disabledDetectors.insert(kind)
                } else {
                    let known = AnomalyKind.allCases.map(\.rawValue).joined(separator: ", ")
                    reader.issues.append(.init(key: "disabled_detectors", message: "unknown detector \"\(name)\" (known: \(known))"))
                }
            }
        }
        reader.issues += config.crossKeyIssues()
        if !reader.issues.isEmpty { throw ConfigError(issues: reader.issues, source: source) }
        return config
    }

    public static func parse(json text: String, source: String? = nil) throws(ConfigError) -> ModelConfig {
        try parse(json: Array(text.utf8), source: source)
    }

    /// Checks that a configuration built in code obeys the same rules a file must.
    public func validate() throws(ConfigError) {
        var rendered = Array(jsonText().utf8)
        rendered.append(0x0A)
        _ = try ModelConfig.parse(json: rendered)
    }

    /// Rules that involve more than one key.
    func crossKeyIssues() -> [ConfigError.Issue] {
        var issues: [ConfigError.Issue] = []
        if let watch = watchThreshold, watch >= anomalyThreshold {
            issues.append(.init(key: "watch_threshold", message: "must be below anomaly_threshold (\(anomalyThreshold))"))
        }
        if let critical = criticalThreshold, critical < anomalyThreshold {
            issues.append(.init(key: "critical_threshold", message: "must be at least anomaly_threshold (\(anomalyThreshold))"))
        }
        if let low = minVolts, let high = maxVolts, low >= high {
            issues.append(.init(key: "max_volts", message: "must be above min_volts (\(low))"))
        }
        let baselineSamples = effectiveBaselineSeconds * sampleRate
        if let baselineSeconds, baselineSamples < Double(windowSize) {
            issues.append(.init(
                key: "baseline_seconds",
                message: "\(baselineSeconds) s is \(baselineSamples) samples at sample_rate \(sampleRate), shorter than window_size \(windowSize); the baseline must be at least one window long (or leave it out for the default, two windows or two minutes)"))
        }
        let driftSamples = driftSeconds * sampleRate
        if driftSamples > 1_000_000 {
            issues.append(.init(key: "drift_seconds", message: "\(driftSamples) samples is more than the 1,000,000 the scorer keeps"))
        }
        if let historySeconds, historySeconds * sampleRate < Double(windowSize) {
            issues.append(.init(key: "history_seconds", message: "\(historySeconds) s is fewer samples than window_size \(windowSize) at sample_rate \(sampleRate); the history must hold at least one window (or leave it out for the default, an hour or 20 windows)"))
        }
        if baselineSamples > 1_000_000 {
            issues.append(.init(key: "baseline_seconds", message: "\(baselineSamples) samples is more than the 1,000,000 the scorer keeps"))
        }
        return issues
    }

    /// The effective configuration as pretty JSON, every key present, in ``knownKeys`` order.
    /// Parsing it back gives the same configuration.
    public func jsonText() -> String {
        func number(_ v: Double) -> String { JSONText.number(v) }
        func optional(_ v: Double?) -> String { v.map(number) ?? "null" }
        let disabled = AnomalyKind.allCases.filter { disabledDetectors.contains($0) }
            .map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let pairs: [(String, String)] = [
            ("anomaly_threshold", number(anomalyThreshold)),
            ("window_size", String(windowSize)),
            ("sample_rate", number(sampleRate)),
            ("watch_threshold", optional(watchThreshold)),
            ("critical_threshold", optional(criticalThreshold)),
            ("baseline_seconds", optional(baselineSeconds)),
            ("spike_mads", number(spikeMADs)),
            ("min_noise_volts", optional(minNoiseVolts)),
            ("drift_seconds", number(driftSeconds)),
            ("drift_volts", optional(driftVolts)),
            ("dropout_periods", number(dropoutPeriods)),
            ("stuck_seconds", number(stuckSeconds)),
            ("noise_ratio", number(noiseRatio)),
            ("oscillation_ratio", number(oscillationRatio)),
            ("adapt_seconds", number(adaptSeconds)),
            ("rarity_decades", number(rarityDecades)),
            ("history_seconds", optional(historySeconds)),
            ("min_volts", optional(minVolts)),
            ("max_volts", optional(maxVolts)),
            ("disabled_detectors", "[\(disabled)]"),
        ]
        return "{\n" + pairs.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// The known key nearest to a misspelt one, if it is near enough to be a typo.
    static func closestKey(to key: String) -> String? {
        let lowered = String(key.lowercased().map { $0 == "-" ? "_" : $0 })
        var best: (key: String, distance: Int)?
        for candidate in knownKeys {
            let d = editDistance(lowered, candidate)
            if best == nil || d < best!.distance { best = (candidate, d) }
        }
        guard let best else { return nil }
        return best.distance <= max(2, best.key.count / 3) ? best.key : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Reads typed values out of a JSON object, recording an issue for each bad one.
private struct KeyReader {
    let object: [String: JSONValue]
    var issues: [ConfigError.Issue] = []

    mutating func number(_ key: String, in range: ClosedRange<Double>, openLower: Bool = false) -> Double? {
        guard let value = object[key] else { return nil }
        guard case .number(let v) = value else {
            issues.append(.init(key: key, message: "must be a number, not \(value.typeName)"))
            return nil
        }
        let low = openLower ? "greater than \(JSONText.number(range.lowerBound))" : "at least \(JSONText.number(range.lowerBound))"
        guard v.isFinite, openLower ? v > range.lowerBound : v >= range.lowerBound, v <= range.upperBound else {
            issues.append(.init(key: key, message: "\(JSONText.number(v)) is out of range: must be \(low) and at most \(JSONText.number(range.upperBound))"))
            return nil
        }
        return v
    }

    mutating func optionalNumber(_ key: String, in range: ClosedRange<Double>, openLower: Bool = false) -> Double? {
        if case .null = object[key] { return nil }
        return number(key, in: range, openLower: openLower)
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = object[key] else { return nil }
        guard case .number(let v) = value, v.rounded() == v, abs(v) < 1e15 else {
            issues.append(.init(key: key, message: "must be a whole number, not \(value.typeName == "a number" ? JSONText.number(value.numberValue ?? 0) : value.typeName)"))
            return nil
        }
        let i = Int(v)
        guard range.contains(i) else {
            issues.append(.init(key: key, message: "\(i) is out of range: must be from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return i
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let value = object[key] else { return nil }
        guard case .array(let items) = value else {
            issues.append(.init(key: key, message: "must be an array of detector names, not \(value.typeName)"))
            return nil
        }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else {
                issues.append(.init(key: key, message: "must hold only strings, found \(item.typeName)"))
                return nil
            }
            out.append(s)
        }
        return out
    }
}

extension JSONValue {
    var numberValue: Double? {
        if case .number(let v) = self { return v }
        return nil
    }
}
