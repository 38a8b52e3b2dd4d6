/// The kinds of file `voltwatch replay` reads, told apart by their first meaningful line.
public enum TraceFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The agent's own recordings: `<epoch_ms><TAB><line as received>`, `#` event lines.
    case recording
    /// A plain serial capture: one frame or bare number per line, no receive times.
    case serial
    /// CSV with a header naming a time column and a value column (and optionally `label`).
    case csv

    public var description: String { rawValue }

    /// Guesses the format from the first non-blank line of a file.
    public static func detect(firstLine line: String) -> TraceFormat {
        let trimmed = line.trimmingASCIIWhitespace()
        if trimmed.hasPrefix("#") { return .recording }
        // Epoch milliseconds, then a tab.
        if let tab = trimmed.firstIndex(of: "\t"),
           !trimmed[..<tab].isEmpty, trimmed[..<tab].allSatisfy(\.isASCIIDigit) {
            return .recording
        }
        if !trimmed.hasPrefix("$"), trimmed.contains(","), DecimalParser.parse(trimmed) == nil {
            return .csv
        }
        return .serial
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\u{FEFF}" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" { s.removeLast() }
        return String(s)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
