/// The kinds of file `voltwatch replay` reads, told apart by their first lines.
public enum TraceFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The agent's own recordings: `<epoch_ms><TAB><line as received>`, `#` event lines.
    case recording
    /// A plain serial capture: one frame or bare number per line, no receive times.
    case serial
    /// CSV with a header naming a time column and a value column (and optionally `label`).
    case csv

    public var description: String { rawValue }

    /// How many non-blank lines that fit no format a file may start with before it is taken for
    /// a serial capture. A capture started while the board was sending begins with the tail of a
    /// frame (`7,4200,512,2.502*5C`), sometimes after line noise; live, the reader drops and
    /// counts that line, so replay looks past a few such lines rather than let the first one
    /// decide the format of the whole file.
    public static let lookaheadLines = 8

    /// What one line says about the file's format: the format it belongs to, or nil when it fits
    /// none (garbage, a frame's tail) and the decision must wait for a later line.
    ///
    /// A line decides `.recording` when it is an event (`#`) or starts `<digits><TAB>`; `.serial`
    /// when it starts with `$` or parses as a frame or a number; `.csv` when it is a header that
    /// names a time and a value column, or when it looks like one: comma-separated column names,
    /// none of them a number, with no `$` or `*` (such a header that lacks the needed columns
    /// still decides `.csv`, so the error names the missing columns).
    public static func classify(line: String) -> TraceFormat? {
        let trimmed = line.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return nil }
        if trimmed.hasPrefix("#") { return .recording }
        // Epoch milliseconds, then a tab.
        if let tab = trimmed.firstIndex(of: "\t"),
           !trimmed[..<tab].isEmpty, trimmed[..<tab].allSatisfy(\.isASCIIDigit) {
            return .recording
        }
        if trimmed.hasPrefix("$") { return .serial }
        if (try? FrameParser.parse(trimmed)) != nil { return .serial }
        // A header replay can use decides whatever else its columns are called.
        if case .success = CSVLayout.parse(header: trimmed) { return .csv }
        if looksLikeCSVHeader(trimmed) { return .csv }
        return nil
    }

    /// Guesses the format from the first meaningful line alone: ``classify(line:)``, and a
    /// serial capture for a line that fits no format (it is then counted as an invalid line).
    public static func detect(firstLine line: String) -> TraceFormat {
        classify(line: line) ?? .serial
    }

    /// Decides the format from the first lines of a file, looking past up to ``lookaheadLines``
    /// non-blank lines that fit no format. nil when there is no non-blank line.
    public static func detect<Lines: Sequence<String>>(lines: Lines) -> TraceFormat? {
        var seen = 0
        for line in lines where !line.trimmingASCIIWhitespace().isEmpty {
            if let format = classify(line: line) { return format }
            seen += 1
            if seen >= lookaheadLines { return .serial }
        }
        return seen > 0 ? .serial : nil
    }

    /// Column names separated by commas: printable text without `$` or `*` (which only frames
    /// hold), and every non-empty field a name: it starts with a letter or `_` once quotes and
    /// spaces are trimmed. A frame's tail and a headerless data row both hold numbers, so
    /// neither passes.
    static func looksLikeCSVHeader(_ line: String) -> Bool {
        guard line.contains(",") else { return false }
        for scalar in line.unicodeScalars {
            if scalar.value < 0x20 && scalar != "\t" { return false }
            if scalar == "$" || scalar == "*" || scalar.value == 0x7F || scalar == "\u{FFFD}" { return false }
        }
        var names = 0
        for field in line.split(separator: ",", omittingEmptySubsequences: false) {
            let name = field.trimmingASCIIWhitespace().filter { $0 != "\"" }
            guard let first = name.unicodeScalars.first else { continue }
            guard first == "_" || first.properties.isAlphabetic else { return false }
            names += 1
        }
        return names > 0
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
