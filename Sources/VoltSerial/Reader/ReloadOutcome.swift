public import VoltCore

/// What a configuration reload (SIGHUP) comes to, decided without I/O: the caller passes the
/// loader, so every branch is tested with strings.
public enum ReloadOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The new file validated and differs: put it in force. `changes`: `key: old → new`.
    case applied(ModelConfig, source: String, changes: [String])
    /// The file validated and says what is already in force.
    case unchanged(source: String)
    /// The file does not validate: the configuration in force stays.
    case rejected(ConfigError)
    /// The agent started on built-in defaults: there is no file to re-read.
    case nothingToReload

    public static func decide(
        path: String?, current: ModelConfig,
        load: (String) throws(ConfigError) -> ModelConfig
    ) -> ReloadOutcome {
        guard let path else { return .nothingToReload }
        let next: ModelConfig
        do {
            next = try load(path)
        } catch {
            return .rejected(error)
        }
        if next == current { return .unchanged(source: path) }
        return .applied(next, source: path, changes: changes(from: current, to: next))
    }

    /// `anomaly_threshold: 0.7 → 0.9` for each key whose value differs.
    static func changes(from old: ModelConfig, to new: ModelConfig) -> [String] {
        let before = ModelConfig.pairs(of: old)
        return ModelConfig.pairs(of: new).compactMap { key, value in
            guard let was = before.first(where: { $0.key == key })?.value, was != value else { return nil }
            return "\(key): \(was) → \(value)"
        }
    }

    /// One line for the log.
    public var description: String {
        switch self {
        case .applied(_, let source, let changes):
            return "reloaded \(source): " + (changes.isEmpty ? "new values" : changes.joined(separator: ", "))
        case .unchanged(let source):
            return "reloaded \(source): nothing changed"
        case .rejected(let error):
            let reasons = error.issues.map(\.description).joined(separator: "; ")
            return "reload refused, the configuration in force stays: \(error.source ?? "file") is invalid: \(reasons)"
        case .nothingToReload:
            return "reload ignored: the agent started on built-in defaults, there is no file to re-read (start it with --config FILE)"
        }
    }

    /// A few words for `systemctl status` after a failed reload; nil after a good one.
    public var shortNote: String? {
        switch self {
        case .applied, .unchanged: nil
        case .rejected(let error):
            "last reload refused (\(error.issues.compactMap(\.key).first ?? "file unreadable")), old configuration in force"
        case .nothingToReload: "reload ignored (no configuration file)"
        }
    }
}
