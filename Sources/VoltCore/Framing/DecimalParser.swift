/// Parses decimal numbers (`-12.345`, `2.5e-3`, `.5`) from bytes without allocating.
///
/// Numbers with at most 15 significant digits and a small exponent take the exact fast path
/// (an integer mantissa divided or multiplied by an exact power of ten, which IEEE 754 rounds
/// correctly); anything longer falls back to the standard library's correctly rounded parser,
/// so the result always equals `Double(String)`.
public enum DecimalParser {
    private static let powersOfTen: [Double] = (0...22).map { exp in
        var v = 1.0
        for _ in 0..<exp { v *= 10 }
        return v
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits accumulated
        var sawDigit = false
        var scale = 0           // power of ten to apply
        var exact = true
        while i < n, let d = digit(bytes[i]) {
            sawDigit = true
            if digits < 19 {
                if mantissa != 0 || d != 0 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(d)
            } else {
                scale += 1
                exact = false
            }
            i += 1
        }
        if i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, let d = digit(bytes[i]) {
                sawDigit = true
                if digits < 19 {
                    if mantissa != 0 || d != 0 { digits += 1 }
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    scale -= 1
                } else {
                    exact = false
                }
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < n && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var exponent = 0
            var sawExpDigit = false
            while i < n, let d = digit(bytes[i]) {
                sawExpDigit = true
                if exponent < 100_000 { exponent = exponent * 10 + d }
                i += 1
            }
            guard sawExpDigit else { return nil }
            scale += expNegative ? -exponent : exponent
        }
        guard i == n else { return nil }

        if exact && digits <= 15 && scale >= -22 && scale <= 22 {
            var value = Double(mantissa)
            if scale < 0 { value /= powersOfTen[-scale] } else if scale > 0 { value *= powersOfTen[scale] }
            return negative ? -value : value
        }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    public static func parse(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { parse($0) }
    }

    @inline(__always)
    private static func digit(_ byte: UInt8) -> Int? {
        let d = byte &- UInt8(ascii: "0")
        return d < 10 ? Int(d) : nil
    }
}
