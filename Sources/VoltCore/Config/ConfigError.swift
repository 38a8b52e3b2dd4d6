/// Why a `model_config.json` was refused: every problem found, each naming its key, so a
/// person fixes the file in one go. The service exits with ``exitCode`` (EX_CONFIG) on it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem with one key (or with the document as a whole, when `key` is nil).
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        public var key: String?
        public var message: String

        public init(key: String?, message: String) {
            self.key = key
            self.message = message
        }

        public var description: String {
            if let key { return "\(key): \(message)" }
            return message
        }
    }

    /// sysexits.h EX_CONFIG: systemd's `RestartPreventExitStatus=78` stops a restart loop.
    public static let exitCode: Int32 = 78

    public var issues: [Issue]
    /// The file the configuration came from, when known, for the message.
    public var source: String?

    public init(issues: [Issue], source: String? = nil) {
        self.issues = issues
        self.source = source
    }

    public var description: String {
        let head = source.map { "invalid configuration in \($0):" } ?? "invalid configuration:"
        return ([head] + issues.map { "  - \($0)" }).joined(separator: "\n")
    }
}
