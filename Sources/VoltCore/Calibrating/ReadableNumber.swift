/// Numbers for the person at `voltwatch calibrate`'s prompts: a few significant digits, no
/// trailing zeros. The settings file keeps every digit; `value = 10.9946 × pin − 0.0012` is
/// what a person checks against their multimeter, not `10.994605918...`.
public enum ReadableNumber {
    public static func format(_ value: Double, significant: Int = 6) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == 0 { return "0" }
        // Digits before the decimal point, without log10 (no libm in the core's pure parts).
        var magnitude = 0
        var scaled = abs(value)
        while scaled >= 10 { scaled /= 10; magnitude += 1 }
        while scaled < 1 { scaled *= 10; magnitude -= 1 }
        let decimals = Swift.max(0, Swift.min(9, significant - 1 - magnitude))
        var text = FixedPoint.format(value, digits: decimals)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// `value = 11 × pin`, `value = 5.405 × pin − 13.51`, with readable numbers.
    public static func formula(_ calibration: Calibration) -> String {
        var text = "value = \(format(calibration.scale)) × pin"
        let offset = format(abs(calibration.offset))
        if offset != "0" { text += (calibration.offset < 0 ? " − " : " + ") + offset }
        return text
    }
}
