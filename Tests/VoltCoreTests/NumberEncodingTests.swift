import Testing
@testable import VoltCore

/// Numbers in results are written by hand for speed; they must be exactly the text the
/// standard library's shortest round-trip formatting gives, so output never depends on
/// which path wrote it.
@Suite struct NumberEncodingTests {
    private func encoded(_ value: Double) -> String { JSONText.number(value) }

    /// The path scores take, which skips the few-decimals test.
    private func encodedAsScore(_ value: Double) -> String {
        JSONText.numberText { JSONText.appendNumber(value, fewDecimals: false, to: &$0) }
    }

    /// Confidence is written with four decimals, trailing zeros dropped.
    @Test func fractionsHaveFourDecimalsAndNoTrailingZeros() {
        func written(_ value: Double) -> String {
            JSONText.numberText { JSONText.appendFraction(value, decimals: 4, to: &$0) }
        }
        func expected(_ value: Double) -> String {
            let scaled = Int((min(max(value, 0), 1) * 10_000).rounded())
            if scaled == 10_000 { return "1" }
            if scaled == 0 { return "0" }
            var digits = String(scaled)
            digits = String(repeating: "0", count: 4 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            return "0." + digits
        }
        var values: [Double] = [0, 1, 0.5, 0.87, 0.875, 0.99996, 0.99994, 0.00004, 0.00005, 0.0001, 1e-9, -0.3, 1.7, 0.1 + 0.2]
        var rng = SplitMix64(seed: 0xF4AC)
        for _ in 0..<5_000 { values.append(rng.unit()) }
        for value in values { #expect(written(value) == expected(value), "\(value)") }
        #expect(written(.nan) == "null")
        #expect(written(.infinity) == "null")
    }

    @Test("ADC-like readings and scores are written as description writes them")
    func matchesDescription() {
        var rng = SplitMix64(seed: 7)
        var values: [Double] = [2.502, 3.0352, 0.001, 0.0049, 4.9951, 1023.0 / 1024.0, 0.1, 0.3, 12.5, -0.25, -2.502, 999_999.999]
        for _ in 0..<20_000 {
            // Readings with 1-6 decimals, as an ADC or a CSV gives them...
            let decimals = Int(rng.next() % 6) + 1
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            values.append(Double(Int(rng.next() % 6_000_000)) / scale)
            // ...and arbitrary doubles, as scores are.
            values.append(rng.unit() * 5)
        }
        for value in values where value != value.rounded(.towardZero) {
            #expect(encoded(value) == value.description, "\(value)")
            #expect(encodedAsScore(value) == value.description, "\(value)")
            #expect(Double(encoded(value)) == value)
        }
    }

    /// The longest texts and the exponent forms: the digits come from `Double.write(to:)`
    /// into a fixed buffer, which must hold every one of them.
    @Test func extremeDoublesAreWrittenAsDescriptionWritesThem() {
        var values: [Double] = [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .ulpOfOne,
                                -2.2250738585072014e-308, -1.7976931348623157e308, 1e-7, 1e15, 1e16, 1.0 / 3,
                                -1.0 / 3, 0.7179309999999999, 123_456_789_012_345.67, -0.0]
        var rng = SplitMix64(seed: 0xD161)
        for _ in 0..<5_000 {
            // Random bit patterns: every exponent, both signs.
            let value = Double(bitPattern: rng.next())
            if value.isFinite { values.append(value) }
        }
        for value in values {
            let expected = value.isFinite && value == value.rounded(.towardZero) && abs(value) < 1e15
                ? (value.sign == .minus ? "-" : "") + String(Int64(value).magnitude) : value.description
            #expect(encodedAsScore(value) == expected, "\(value)")
            #expect(Double(encodedAsScore(value)) == value)
        }
    }

    @Test func wholeNumbersAndNonFiniteValues() {
        #expect(encoded(0) == "0")
        #expect(encoded(1) == "1")
        #expect(encoded(-3) == "-3")
        #expect(encoded(.nan) == "null")
        #expect(encoded(.infinity) == "null")
    }
}
