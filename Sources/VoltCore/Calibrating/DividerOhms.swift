/// A resistor divider as a person writes it on the command line: `100000,10000`, or with the
/// suffixes printed on resistors, `100k,10k`, `1M,47k`, `4k7,1k`.
public struct DividerOhms: Sendable, Equatable {
    /// From the input to the pin, ohms.
    public var top: Double
    /// From the pin to ground, ohms.
    public var bottom: Double

    public init(top: Double, bottom: Double) {
        self.top = top
        self.bottom = bottom
    }

    public var calibration: Calibration { .divider(topOhms: top, bottomOhms: bottom) }

    /// `TOP,BOTTOM`; nil unless both are resistances (top may be 0, bottom above 0).
    public static func parse(_ text: String) -> DividerOhms? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let top = ohms(parts[0]), let bottom = ohms(parts[1]), top >= 0, bottom > 0 else { return nil }
        return DividerOhms(top: top, bottom: bottom)
    }

    /// `10000`, `10k`, `4k7` (4.7 k, the letter as the decimal point), `1M`, `470R`.
    static func ohms(_ text: Substring) -> Double? {
        let text = text.filter { $0 != " " && $0 != "_" }
        let multipliers: [Character: Double] = ["R": 1, "r": 1, "k": 1e3, "K": 1e3, "M": 1e6]
        guard let letterIndex = text.firstIndex(where: { multipliers[$0] != nil }) else {
            return number(Substring(text))
        }
        let multiplier = multipliers[text[letterIndex]]!
        let whole = text[..<letterIndex], fraction = text[text.index(after: letterIndex)...]
        guard !whole.isEmpty, fraction.allSatisfy(\.isNumber) else { return nil }
        guard let value = number(fraction.isEmpty ? whole : Substring(whole + "." + fraction)) else { return nil }
        return value * multiplier
    }

    private static func number(_ text: Substring) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(text), value.isFinite,
              value <= 1e9 else { return nil }
        return value
    }
}
