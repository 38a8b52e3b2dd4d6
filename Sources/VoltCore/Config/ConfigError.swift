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

extension JSONValue {
    /// Parses a configuration document that must be a JSON object (`model_config.json`, the
    /// settings file): a syntax error, a duplicate key or a number out of range is blamed on its
    /// position and key, like any bad value; anything but an object is refused, naming `what`.
    static func configurationObject(_ bytes: [UInt8], source: String?, what: String) throws(ConfigError) -> [String: JSONValue] {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigError(issues: [.init(key: error.path, message: error.description)], source: source)
        }
        guard case .object(let object) = document else {
            throw ConfigError(issues: [.init(key: nil, message: "\(what) must hold a JSON object, not \(document.typeName)")],
                              source: source)
        }
        return object
    }
}
