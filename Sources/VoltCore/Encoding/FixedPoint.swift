/// Fixed-point text for numbers people read.
public enum FixedPoint {
    /// `value` with exactly `digits` decimals (3 by default: millivolts), for reasons and
    /// summaries; no locale, no Foundation.
    public static func format(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        // Beyond Int64 (a ratio to a near-zero spread can be astronomically large): plain notation.
        guard scaled < 9e18 else { return "\(value)" }
        let whole = Int64(scaled / scale)
        var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let frac = Int64(scaled) - whole * Int64(scale)
            var fracText = String(frac)
            while fracText.count < digits { fracText = "0" + fracText }
            text += "." + fracText
        }
        return text
    }
}
