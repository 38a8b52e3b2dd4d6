import Testing
@testable import VoltCore

/// The allocation-free number parser must agree with the standard library bit for bit, or a
/// replay would score different voltages than a `Double(String)` reading of the same file.
@Suite("DecimalParser")
struct DecimalParserTests {
    /// A random decimal in the grammar both parsers accept: `[sign] digits [. digits] [e [sign] digits]`,
    /// with lengths from 1 to 25 significant digits so both the exact fast path and the
    /// fallback (more than 15 digits, or an exponent beyond 10^±22) are exercised.
    static func decimal(_ rng: inout SplitMix64) -> String {
        func digits(_ count: Int) -> String {
            String((0..<count).map { _ in Character(Unicode.Scalar(UInt8(ascii: "0") + UInt8(rng.next() % 10))) })
        }
        var s = ""
        switch rng.next() % 4 {
        case 0: s += "-"
        case 1 where rng.next() % 4 == 0: s += "+"
        default: break
        }
        let intDigits = Int(rng.next() % 13)
        let fracDigits = Int(rng.next() % 14)
        if intDigits == 0 && fracDigits == 0 {
            s += digits(1)
        } else {
            s += digits(intDigits)
            if fracDigits > 0 || rng.next() % 8 == 0 { s += "." + digits(fracDigits) }
        }
        if rng.next() % 3 == 0 {
            s += rng.next() % 2 == 0 ? "e" : "E"
            switch rng.next() % 3 {
            case 0: s += "-"
            case 1: s += "+"
            default: break
            }
            s += String(rng.next() % 40)
        }
        return s
    }

    static func expectAgreement(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Double(text)
        let actual = DecimalParser.parse(text)
        #expect(expected != nil, "reference refuses \(text)", sourceLocation: sourceLocation)
        #expect(actual?.bitPattern == expected?.bitPattern, "\(text): \(String(describing: actual)) != \(String(describing: expected))", sourceLocation: sourceLocation)
    }

    @Test func agreesWithTheStandardLibraryOnGeneratedDecimals() {
        var rng = SplitMix64(seed: 0xDEC1_4A1)
        var seen = Set<String>()
        for _ in 0..<4_000 {
            let text = Self.decimal(&rng)
            seen.insert(text)
            Self.expectAgreement(text)
        }
        #expect(seen.count > 3_500, "the generator must produce mostly distinct strings")
    }

    @Test func agreesOnLongMantissas() {
        // More than 15 significant digits: the fast path would round twice, so these must
        // take the correctly rounded fallback.
        var rng = SplitMix64(seed: 99)
        for _ in 0..<1_000 {
            let count = 16 + Int(rng.next() % 15)
            var text = String((0..<count).map { _ in Character(String(rng.next() % 10)) })
            let point = Int(rng.next() % UInt64(count))
            text.insert(".", at: text.index(text.startIndex, offsetBy: point))
            Self.expectAgreement(text)
        }
    }

    @Test("hard cases", arguments: [
        "0", "-0", "0.0", "-0.0", "00000.00000", "1", "-1", ".5", "5.", "2.502", "0.1", "0.3",
        "9007199254740993",            // 2^53 + 1: needs rounding
        "9007199254740992.5",
        "123456789012345",             // 15 digits: exact path
        "1234567890123456",            // 16 digits: fallback
        "0.1234567890123456789",
        "12345678901234567890123",     // more than 19 digits
        "1e22", "1e23", "1e-22", "1e-23", "123456789012345e22", "4.9e-324", "2.2250738585072014e-308",
        "1.7976931348623157e308", "1e308", "1e309", "1e-400", "0e999999", "0.000000000000000000000000001",
        "2.5E+0", "3.3e-000", "+7.25",
    ])
    func hardCase(text: String) {
        Self.expectAgreement(text)
    }

    @Test("refuses what is not a plain decimal", arguments: [
        "", "-", "+", ".", "-.", "e5", ".e1", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "inf", "nan",
        "1_000", "١", "--1", "+-1",
    ])
    func refuses(text: String) {
        #expect(DecimalParser.parse(text) == nil)
    }

    @Test func bufferAndStringEntryPointsAgree() {
        for text in ["2.5", "-0.001", "1e-3", "12345678901234567890", "x"] {
            let viaBytes = Array(text.utf8).withUnsafeBufferPointer { DecimalParser.parse($0) }
            #expect(viaBytes?.bitPattern == DecimalParser.parse(text)?.bitPattern)
        }
    }
}
