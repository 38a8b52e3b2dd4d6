/// One thing `voltwatch doctor` found, and what to do about it.
public struct Finding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case ok, warning, problem

        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        var rank: Int {
            switch self {
            case .ok: 0
            case .warning: 1
            case .problem: 2
            }
        }
    }

    public var severity: Severity
    /// What it is about: a device path, a process, "udev rule".
    public var subject: String
    public var message: String
    /// The command or step that fixes it; nil for an ``Severity/ok`` finding.
    public var fix: String?

    public init(_ severity: Severity, _ subject: String, _ message: String, fix: String? = nil) {
        self.severity = severity
        self.subject = subject
        self.message = message
        self.fix = fix
    }

    public var description: String {
        let mark = switch severity {
        case .ok: "ok     "
        case .warning: "warning"
        case .problem: "PROBLEM"
        }
        var text = "\(mark) \(subject): \(message)"
        if let fix { text += "\n        fix: \(fix)" }
        return text
    }
}
