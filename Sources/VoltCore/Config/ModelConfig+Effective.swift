/// What `voltwatch check-config` shows: every key with the value the scorer uses, and where it
/// came from. A key left null in the file is not "nothing": it is a value derived from other
/// keys (the severity bands, the baseline and history spans) or one the scorer learns from the
/// signal itself (the noise floor, the drift size), and the person checking a file should see
/// which.
extension ModelConfig {
    /// Where a key's value in effect comes from.
    public enum ValueSource: Sendable, Equatable, CustomStringConvertible {
        case file
        case defaultValue
        /// Computed from other keys; the text says how.
        case derived(String)
        /// Learnt from the signal while scoring; the text says what.
        case learnt(String)
        /// Not set, and nothing stands in for it; the text says what that means.
        case unset(String)

        public var description: String {
            switch self {
            case .file: "from the file"
            case .defaultValue: "default"
            case .derived(let how): "derived: \(how)"
            case .learnt(let what): "learnt from the signal: \(what)"
            case .unset(let meaning): "not set: \(meaning)"
            }
        }
    }

    /// Every key in ``knownKeys`` order with its value in effect (JSON text) and its source;
    /// `givenKeys` are the keys the file held.
    public func effectiveValues(givenKeys: Set<String>) -> [(key: String, value: String, source: ValueSource)] {
        let written = ModelConfig.pairs(of: self)
        // Derived values are shown to a millionth: 0.49, not 0.48999999999999994.
        func shown(_ value: Double) -> String { JSONText.number((value * 1e6).rounded() / 1e6) }
        return written.map { key, value in
            let given = givenKeys.contains(key)
            guard value == "null" else { return (key, value, given ? .file : .defaultValue) }
            switch key {
            case "watch_threshold":
                return (key, shown(effectiveWatchThreshold), .derived("70 % of anomaly_threshold"))
            case "critical_threshold":
                return (key, shown(effectiveCriticalThreshold), .derived("60 % of the way from anomaly_threshold to 1"))
            case "baseline_seconds":
                return (key, shown(effectiveBaselineSeconds), .derived("two windows or two minutes, whichever is longer"))
            case "history_seconds":
                return (key, shown(historySamples / sampleRate), .derived("an hour, 20 windows or 3 × 10^rarity_decades samples, whichever is longest"))
            case "min_noise_volts":
                return (key, "null", .learnt("the signal's resolution and usual step"))
            case "drift_volts":
                return (key, "null", .learnt("16 σ of the signal's step noise"))
            case "min_volts", "max_volts":
                return (key, "null", .unset("no hard limit (a channel's min and max in the settings file apply to it alone)"))
            default:
                return (key, value, given ? .file : .defaultValue)
            }
        }
    }

    /// `(key, value)` pairs as ``jsonText()`` writes them, in its order.
    public static func pairs(of config: ModelConfig) -> [(key: String, value: String)] {
        config.jsonText().split(separator: "\n").compactMap { line in
            let text = line.drop { $0 == " " }
            guard text.first == "\"", let colon = text.firstIndex(of: ":") else { return nil }
            var value = text[text.index(after: colon)...].drop { $0 == " " }
            if value.last == "," { value = value.dropLast() }
            return (String(text[text.index(after: text.startIndex)..<colon].dropLast()), String(value))
        }
    }
}
