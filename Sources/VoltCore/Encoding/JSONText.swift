/// Small, exact JSON writing helpers. Results are written by hand rather than through
/// `JSONEncoder` because a replay writes millions of them, and because the contract wants
/// `anomaly_score` at full double precision and `timestamp` with exactly millisecond digits.
public enum JSONText {
    /// The shortest text that reads back as exactly `value` (Swift's `description`), which is
    /// valid JSON for every finite double. Non-finite values, which JSON cannot hold, become null.
    public static func number(_ value: Double) -> String {
        numberText { appendNumber(value, to: &$0) }
    }

    /// Epoch milliseconds as seconds with a three-digit fraction: `1732170000.123`.
    public static func seconds(fromMilliseconds ms: Int64) -> String {
        numberText { appendSeconds(fromMilliseconds: ms, to: &$0) }
    }

    /// What one of the number writers below writes, as a String.
    static func numberText(_ write: (inout OutputSpan<UInt8>) -> Void) -> String {
        String(decoding: [UInt8](capacity: maxNumberLength, initializingWith: write), as: UTF8.self)
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

    // MARK: Bytes (the one implementation; the String forms above wrap these)
    //
    // They write into an `OutputSpan`, the spare capacity of the caller's array: a result is
    // written with one bounds check per run of bytes and no other bookkeeping, where appending
    // to the array itself checked its uniqueness and capacity for every field and byte.

    /// The most bytes any of the number writers below writes: a double's shortest form is at
    /// most 24 characters (`-2.2250738585072014e-308`), a UInt64 20 digits, and seconds from
    /// milliseconds a sign, 16 digits, a point and three decimals.
    static let maxNumberLength = 32

    @inline(__always)
    static func append(_ text: StaticString, to out: inout OutputSpan<UInt8>) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: &out)
    }

    static func append(text: String, to out: inout OutputSpan<UInt8>) {
        var text = text
        text.withUTF8 { append($0, to: &out) }
    }

    /// One copy for a run of bytes (a field name, a formatted number), not a check per byte.
    @inline(__always)
    static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout OutputSpan<UInt8>) {
        out.withUnsafeMutableBufferPointer { buffer, initialized in
            precondition(buffer.count - initialized >= bytes.count, "result longer than its bound")
            guard let source = bytes.baseAddress, bytes.count > 0 else { return }
            (buffer.baseAddress! + initialized).initialize(from: source, count: bytes.count)
            initialized += bytes.count
        }
    }

    /// Shortest text that reads back as exactly `value` (the standard library's), or an
    /// integer when the value is whole; null for the non-finite values JSON cannot hold.
    /// `fewDecimals`: whether the value is likely a reading with a few decimals (`2.502`),
    /// worth the fast path's test; a score almost never is, and the test's six divisions
    /// would only be wasted on it. The text is the same either way.
    static func appendNumber(_ value: Double, fewDecimals: Bool = true, to out: inout OutputSpan<UInt8>) {
        guard value.isFinite else { return append("null", to: &out) }
        if value == value.rounded(.towardZero) && abs(value) < 1e15 {
            let whole = Int64(value)
            if whole < 0 || (whole == 0 && value.sign == .minus) { out.append(UInt8(ascii: "-")) }
            appendInteger(whole.magnitude, to: &out)
            return
        }
        if fewDecimals && appendShortDecimal(value, to: &out) { return }
        var digits = ShortestDigits()
        value.write(to: &digits)
        digits.bytes.span.withUnsafeBufferPointer {
            append(UnsafeBufferPointer(rebasing: $0[..<digits.count]), to: &out)
        }
    }

    /// The standard library's shortest round-trip digits of a double (what `description`
    /// prints), without a String. `Double.write(to:)` hands its ASCII to the stream's
    /// `_writeASCII`; `description` would build a String, a heap allocation for the 16 or more
    /// characters most scores take (about 40 ns of a result's encoding). Should the hook ever
    /// go, the text arrives through `write(_:)` and is the same.
    struct ShortestDigits: TextOutputStream {
        var bytes = InlineArray<32, UInt8>(repeating: 0)
        var count = 0

        mutating func write(_ string: String) {
            var string = string
            string.withUTF8 { _writeASCII($0) }
        }

        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
            for byte in buffer {
                precondition(count < bytes.count, "a double's text is at most 24 characters")
                bytes[count] = byte
                count += 1
            }
        }
    }

    private static let powersOfTen: (Double, Double, Double, Double, Double, Double) = (10, 100, 1e3, 1e4, 1e5, 1e6)

    /// Fast path for values with few decimals (ADC readings: `2.502`, `3.0352`): when `value`
    /// is exactly the double nearest N / 10^k for some k ≤ 6, "N with k decimals" is the
    /// shortest text that reads back as `value` — what `description` prints — without
    /// building a String. Limited to magnitudes `description` writes without an exponent.
    static func appendShortDecimal(_ value: Double, to out: inout OutputSpan<UInt8>) -> Bool {
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
    static func appendFraction(_ value: Double, decimals: Int, to out: inout OutputSpan<UInt8>) {
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

    static func appendInteger(_ value: UInt64, to out: inout OutputSpan<UInt8>) {
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
            append(UnsafeBufferPointer(rebasing: scratch.bindMemory(to: UInt8.self)[i...]), to: &out)
        }
    }

    /// Epoch milliseconds as seconds with exactly three decimals: `1732170000.123`.
    static func appendSeconds(fromMilliseconds ms: Int64, to out: inout OutputSpan<UInt8>) {
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
