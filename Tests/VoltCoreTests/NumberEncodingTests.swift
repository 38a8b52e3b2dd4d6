import Testing
@testable import VoltCore

/// Numbers in results are written by hand for speed; they must be exactly the text the
/// standard library's shortest round-trip formatting gives, so output never depends on
/// which path wrote it.
@Suite struct NumberEncodingTests {
    private func encoded(_ value: Double) -> String { JSONText.number(value) }

    /// The path scores take, which skips the few-decimals test.
    private func encodedAsScore(_ value: Double) -> String {
        String(decoding: [UInt8](capacity: JSONText.maxNumberLength) {
            JSONText.appendNumber(value, fewDecimals: false, to: &$0)
        }, as: UTF8.self)
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

    @Test func wholeNumbersAndNonFiniteValues() {
        #expect(encoded(0) == "0")
        #expect(encoded(1) == "1")
        #expect(encoded(-3) == "-3")
        #expect(encoded(.nan) == "null")
        #expect(encoded(.infinity) == "null")
    }
}
