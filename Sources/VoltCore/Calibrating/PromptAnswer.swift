/// What a person typed at one of `voltwatch calibrate`'s prompts.
public enum PromptAnswer: Sendable, Equatable {
    /// `q` or `quit`: stop without writing anything.
    case quit
    /// Just Enter: keep what is shown.
    case keep
    case number(Double)
    case text(String)
    /// Not what the prompt asked for; the reason says what would be.
    case invalid(String)

    /// Any answer: `q`, nothing, or the text as typed (spaces around it dropped).
    public static func parse(text line: String) -> PromptAnswer {
        let trimmed = trimmed(line)
        if trimmed.isEmpty { return .keep }
        if isQuit(trimmed) { return .quit }
        return .text(trimmed)
    }

    /// A known value: a number, optionally followed by `unit` (`12.6`, `12.6 V`, `12,6`);
    /// `q` quits. Values beyond 1e9, which the settings file refuses, are refused here.
    public static func parse(value line: String, unit: String) -> PromptAnswer {
        var text = Substring(trimmed(line))
        if text.isEmpty { return .invalid("type the value you applied, in \(unit), then Enter (q quits)") }
        if isQuit(String(text)) { return .quit }
        if !unit.isEmpty, text.count > unit.count, text.lowercased().hasSuffix(unit.lowercased()) {
            text = text.dropLast(unit.count)
            while let last = text.last, last == " " { text = text.dropLast() }
        }
        var number = String(text)
        // A decimal comma, as many people write it.
        if !number.contains("."), number.filter({ $0 == "," }).count == 1 {
            number = number.replacingComma()
        }
        let allowed = Set("0123456789+-.eE")
        guard !number.isEmpty, number.allSatisfy(allowed.contains), let value = Double(number), value.isFinite else {
            return .invalid("\"\(trimmed(line))\" is not a number: type the value you applied, in \(unit), e.g. 12.6 (q quits)")
        }
        guard abs(value) <= 1e9 else { return .invalid("\(number) is too large: a value is at most 1e9") }
        return .number(value)
    }

    private static func isQuit(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "q" || lower == "quit"
    }

    private static func trimmed(_ line: String) -> String {
        var s = Substring(line)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension String {
    fileprivate func replacingComma() -> String {
        String(map { $0 == "," ? "." : $0 })
    }
}
