/// Writes ``ScoredResult``s as DESIGN.md's `anomaly_result` JSON object.
///
/// One encoding serves every consumer: `replay` output, `run --print` and the WebSocket hub
/// (which wraps the object once and shares the bytes with every client). Field order is
/// fixed, so identical results give byte-identical lines. The byte form appends straight into
/// the caller's buffer: a replay writes millions of these, and building a `String` per field
/// cost more than scoring the sample.
public enum ResultEncoder {
    /// The device name as a JSON string literal (quotes included), escaped once and reused
    /// for every result of that device.
    public struct Device: Sendable {
        public let name: String
        let literal: [UInt8]

        public init(_ name: String) {
            self.name = name
            self.literal = Array(JSONText.string(name).utf8)
        }
    }

    /// Appends `{"anomaly_score":...,"reasons":[...]}` (no newline) to `out`.
    public static func append(_ result: ScoredResult, device: Device, to out: inout [UInt8]) {
        append("{\"anomaly_score\":", to: &out)
        appendNumber(result.anomalyScore, to: &out)
        append(result.isAnomaly ? ",\"is_anomaly\":true,\"confidence\":" : ",\"is_anomaly\":false,\"confidence\":", to: &out)
        // Four decimals: a trust level, unlike the score, needs no 17 significant digits.
        appendFraction(result.confidence, decimals: 4, to: &out)
        append(",\"timestamp\":", to: &out)
        appendSeconds(fromMilliseconds: result.timestampMs, to: &out)
        append(",\"voltage\":", to: &out)
        appendNumber(result.voltage, to: &out)
        append(",\"device\":", to: &out)
        out.append(contentsOf: device.literal)
        append(",\"seq\":", to: &out)
        if let seq = result.seq { appendInteger(UInt64(seq), to: &out) } else { append("null", to: &out) }
        append(",\"severity\":\"", to: &out)
        append(result.severity.rawValue, to: &out)
        append("\",\"kinds\":[", to: &out)
        var first = true
        for kind in result.kinds {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            append(kind.rawValue, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        append("],\"reasons\":[", to: &out)
        for (i, reason) in result.reasons.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(JSONText.string(reason), to: &out)
        }
        append("]}", to: &out)
    }

    /// The same object followed by `\n`, for JSON-lines output.
    public static func appendLine(_ result: ScoredResult, device: Device, to out: inout [UInt8]) {
        append(result, device: device, to: &out)
        out.append(0x0A)
    }

    /// `{"anomaly_score":...,"reasons":[...]}` as a string, for one-off use.
    public static func json(_ result: ScoredResult, device: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(result, device: Device(device), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same object followed by `\n`.
    public static func jsonLine(_ result: ScoredResult, device: String) -> String {
        json(result, device: device) + "\n"
    }

    // MARK: Pieces

    @inline(__always)
    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    /// Shortest text that reads back as exactly `value` (the standard library's), or an
    /// integer when the value is whole; null for the non-finite values JSON cannot hold.
    static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else { return append("null", to: &out) }
        if value == value.rounded(.towardZero) && abs(value) < 1e15 {
            let whole = Int64(value)
            if whole < 0 || (whole == 0 && value.sign == .minus) { out.append(UInt8(ascii: "-")) }
            appendInteger(whole.magnitude, to: &out)
            return
        }
        if appendShortDecimal(value, to: &out) { return }
        out.append(contentsOf: value.description.utf8)
    }

    private static let powersOfTen: (Double, Double, Double, Double, Double, Double) = (10, 100, 1e3, 1e4, 1e5, 1e6)

    /// Fast path for values with few decimals (ADC readings: `2.502`, `3.0352`): when `value`
    /// is exactly the double nearest N / 10^k for some k ≤ 6, "N with k decimals" is the
    /// shortest text that reads back as `value` — what `description` prints — without
    /// building a String. Limited to magnitudes `description` writes without an exponent.
    static func appendShortDecimal(_ value: Double, to out: inout [UInt8]) -> Bool {
        let magnitude = abs(value)
        guard magnitude >= 0.001 && magnitude < 1e9 else { return false }
        var k = 0
        var scaled = 0.0
        var found = false
        withUnsafeBytes(of: powersOfTen) { raw in
            let powers = raw.bindMemory(to: Double.self)
            while k < 6 {
                let scale = powers[k]
                scaled = (magnitude * scale).rounded()
                if scaled / scale == magnitude { found = true; k += 1; return }
                k += 1
            }
        }
        guard found else { return false }
        let digits = UInt64(scaled)
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var divisor: UInt64 = 1
        for _ in 0..<k { divisor *= 10 }
        appendInteger(digits / divisor, to: &out)
        out.append(UInt8(ascii: "."))
        var remainder = digits % divisor
        divisor /= 10
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(remainder / divisor))
            remainder %= divisor
            divisor /= 10
        }
        return true
    }

    /// A value in [0, 1] rounded to `decimals` places, trailing zeros dropped (`0.875`, `1`, `0`).
    static func appendFraction(_ value: Double, decimals: Int, to out: inout [UInt8]) {
        guard value.isFinite else { return append("null", to: &out) }
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let clamped = min(max(value, 0), 1)
        let scaled = UInt64((clamped * Double(scale)).rounded())
        appendInteger(scaled / scale, to: &out)
        var frac = scaled % scale
        guard frac > 0 else { return }
        out.append(UInt8(ascii: "."))
        var width = decimals
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(frac / divisor % 10))
            divisor /= 10
        }
    }

    static func appendInteger(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0) // 32 bytes of scratch
        withUnsafeMutableBytes(of: &digits) { scratch in
            var n = value
            var i = scratch.count
            while n > 0 {
                i -= 1
                scratch[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            out.append(contentsOf: scratch[i...])
        }
    }

    /// Epoch milliseconds as seconds with exactly three decimals: `1732170000.123`.
    static func appendSeconds(fromMilliseconds ms: Int64, to out: inout [UInt8]) {
        if ms < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = ms.magnitude
        appendInteger(magnitude / 1000, to: &out)
        let frac = magnitude % 1000
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(frac / 100))
        out.append(UInt8(ascii: "0") + UInt8(frac / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(frac % 10))
    }
}
