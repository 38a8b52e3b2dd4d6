/// A line of a replayed file that does not fit the file's format. The replay reports it with
/// the file name and line number, skips the line and ends with a non-zero status.
public struct TraceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
