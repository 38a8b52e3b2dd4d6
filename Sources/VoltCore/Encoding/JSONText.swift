/// Small, exact JSON writing helpers. Results are written by hand rather than through
/// `JSONEncoder` because a replay writes millions of them, and because the contract wants
/// `anomaly_score` at full double precision and `timestamp` with exactly millisecond digits.
public enum JSONText {
    /// The shortest text that reads back as exactly `value` (Swift's `description`), which is
    /// valid JSON for every finite double. Non-finite values, which JSON cannot hold, become null.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(.towardZero) && abs(value) < 1e15 {
            return String(Int64(value))
        }
        return value.description
    }

    /// Epoch milliseconds as seconds with a three-digit fraction: `1732170000.123`.
    public static func seconds(fromMilliseconds ms: Int64) -> String {
        let negative = ms < 0
        let magnitude = ms.magnitude
        let whole = magnitude / 1000
        let frac = magnitude % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return (negative ? "-" : "") + "\(whole).\(fracText)"
    }

    /// A JSON string literal, quotes included.
    public static func string(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
