import Testing
@testable import VoltCore

/// Every line the board may send, understood or refused for the right reason.
@Suite("FrameParser")
struct FrameParserTests {
    /// The reason a line is refused, or nil when it parses.
    static func rejection(_ line: String) -> RejectionReason? {
        do {
            _ = try FrameParser.parse(line)
            return nil
        } catch {
            return error.reason
        }
    }

    /// `$body*CS` with CS off by one bit from the right checksum.
    static func wrongChecksum(_ body: String) -> String {
        var sum: UInt8 = 0
        for byte in body.utf8 { sum ^= byte }
        let wrong = String(sum ^ 0x01, radix: 16, uppercase: true)
        return "$" + body + "*" + (wrong.count == 1 ? "0" + wrong : wrong)
    }

    // MARK: Valid frames

    @Test func voltFrame() throws {
        let line = FrameParser.sentence("VOLT,42,4200,512,2.502")
        #expect(try FrameParser.parse(line) == .volt(VoltFrame(seq: 42, uptimeMs: 4200, adcRaw: 512, volts: 2.502)))
    }

    @Test func sentenceAppendsTheNMEAChecksum() {
        // XOR of "VOLT,42,4200,512,2.502", computed by hand byte by byte.
        var sum: UInt8 = 0
        for byte in "VOLT,42,4200,512,2.502".utf8 { sum ^= byte }
        let hex = String(sum, radix: 16, uppercase: true)
        let expected = "$VOLT,42,4200,512,2.502*" + (hex.count == 1 ? "0" + hex : hex)
        #expect(FrameParser.sentence("VOLT,42,4200,512,2.502") == expected)
        #expect(FrameParser.sentence("A") == "$A*41")
        #expect(FrameParser.sentence("") == "$*00")
    }

    @Test func lowercaseChecksumIsAccepted() throws {
        // Pick a body whose checksum has a letter, so case matters.
        let body = (0..<50).lazy.map { "VOLT,\($0),100,512,2.500" }.first { body in
            FrameParser.sentence(body).suffix(2).contains { $0.isLetter }
        }!
        let upper = FrameParser.sentence(body)
        let lower = String(upper.dropLast(2)) + upper.suffix(2).lowercased()
        #expect(upper != lower)
        #expect(try FrameParser.parse(upper) == FrameParser.parse(lower))
        guard case .volt = try FrameParser.parse(lower) else {
            Issue.record("lowercase checksum not accepted")
            return
        }
    }

    @Test func voltFieldLimitsAreInclusive() throws {
        let line = FrameParser.sentence("VOLT,4294967295,4294967295,65535,-999.5")
        #expect(try FrameParser.parse(line) == .volt(VoltFrame(seq: .max, uptimeMs: .max, adcRaw: 65_535, volts: -999.5)))
    }

    @Test func helloFrame() throws {
        let frame = try FrameParser.parse(Bench.helloLine)
        #expect(frame == .hello(Hello(
            firmware: "voltage_monitor", version: "1.0.0", board: "uno",
            vrefMillivolts: 5000, adcBits: 10, periodMs: 100)))
    }

    @Test("legacy bare numbers", arguments: [
        ("2.5", 2.5), ("-0.25", -0.25), (" 3.3 ", 3.3), ("1e-3", 0.001), ("\t4.75\r", 4.75),
        ("0", 0), (".5", 0.5), ("+1.25", 1.25), ("999.999", 999.999), ("2.50000000000000000001", 2.5),
    ])
    func legacyNumber(line: String, volts: Double) throws {
        #expect(try FrameParser.parse(line) == .legacy(volts: volts))
    }

    @Test("sentence(body) round-trips through parse", arguments: 0..<200)
    func sentenceRoundTrip(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let seq = UInt32(truncatingIfNeeded: rng.next())
        let uptime = UInt32(truncatingIfNeeded: rng.next())
        let adc = UInt32(rng.next() % 1024)
        let volts = Double(adc) * Bench.step
        let voltsText = FixedPoint.format(volts, digits: 4)
        let line = FrameParser.sentence("VOLT,\(seq),\(uptime),\(adc),\(voltsText)")
        #expect(try FrameParser.parse(line) == .volt(VoltFrame(seq: seq, uptimeMs: uptime, adcRaw: adc, volts: Double(voltsText)!)))
    }

    // MARK: Rejections

    @Test("checksum problems", arguments: [
        Self.wrongChecksum("VOLT,1,100,512,2.500"),  // wrong value
        Self.wrongChecksum("HELLO,fw,1.0,uno,5000,10,100"),
        "$VOLT,1,100,512,2.500",            // missing '*'
        "$VOLT,1,100,512,2.500*5",          // one hex digit
        "$VOLT,1,100,512,2.500*",           // no hex digits
        "$VOLT,1,100,512,2.500*G1",         // not hex
        "$VOLT,1,100,512,2.500*1G",
        "$VOLT,1,100,512,2.500*123",        // three digits
        "$",
        "$VOLT,1*2,100,512,2.500",
    ])
    func checksum(line: String) {
        #expect(Self.rejection(line) == .checksum)
    }

    @Test func corruptedPayloadFailsTheChecksum() {
        // One flipped digit in the volts: the classic line-noise corruption.
        let good = FrameParser.sentence("VOLT,1,100,512,2.500")
        let bad = "$VOLT,1,100,512,2.600" + good.suffix(3)
        #expect(Self.rejection(good) == nil)
        #expect(Self.rejection(bad) == .checksum)
    }

    @Test("syntax problems", arguments: [
        FrameParser.sentence("TEMP,1,100,512,2.500"),        // unknown sentence
        FrameParser.sentence("volt,1,100,512,2.500"),        // sentence names are case-sensitive
        FrameParser.sentence("VOLT,1,100,512"),              // too few fields
        FrameParser.sentence("VOLT,1,100,512,2.500,7"),      // too many fields
        FrameParser.sentence("VOLT,x1,100,512,2.500"),       // non-digit seq
        FrameParser.sentence("VOLT,-1,100,512,2.500"),       // signed seq
        FrameParser.sentence("VOLT,,100,512,2.500"),         // empty seq
        FrameParser.sentence("VOLT,1,1.5,512,2.500"),        // fractional uptime
        FrameParser.sentence("VOLT,1,100,0x200,2.500"),      // hex adc
        FrameParser.sentence("VOLT,1,100,512,2.5V"),         // units in volts
        FrameParser.sentence("VOLT,1,100,512,"),             // empty volts
        FrameParser.sentence("HELLO,fw,1.0,uno,5000,10"),    // hello with too few fields
        FrameParser.sentence("HELLO,fw,1.0,uno,5000,10,100,x"),
        FrameParser.sentence("HELLO,fw,1.0,uno,5V,10,100"),
        "hello world",
        "2.5.1",
        "2.5 V",
        "--1",
        "1e",
        "nan",
        "inf",
        "",
        "   ",
        "\r",
    ])
    func syntax(line: String) {
        #expect(Self.rejection(line) == .syntax)
    }

    @Test("out of range values", arguments: [
        FrameParser.sentence("VOLT,4294967296,100,512,2.500"),           // seq > 2^32 - 1
        FrameParser.sentence("VOLT,99999999999999999999999,100,512,2.5"), // seq past UInt64
        FrameParser.sentence("VOLT,1,4294967296,512,2.500"),              // uptime > 2^32 - 1
        FrameParser.sentence("VOLT,1,100,65536,2.500"),                   // adc > 65535
        FrameParser.sentence("VOLT,1,100,512,1e9"),                       // absurd volts
        FrameParser.sentence("VOLT,1,100,512,-1000.001"),
        FrameParser.sentence("VOLT,1,100,512,1e400"),                     // overflows to infinity
        FrameParser.sentence("HELLO,fw,1.0,uno,5000,10,0"),               // period 0
        FrameParser.sentence("HELLO,fw,1.0,uno,5000,33,100"),             // 33-bit ADC
        "1e9",
        "-1e400",
        "1000.5",
    ])
    func outOfRange(line: String) {
        #expect(Self.rejection(line) == .outOfRange)
    }

    @Test func rejectionsExplainThemselvesWithoutControlCharacters() {
        do {
            _ = try FrameParser.parse("\u{01}\u{1B}[31mhello")
            Issue.record("garbage was accepted")
        } catch {
            #expect(error.reason == .syntax)
            #expect(!error.detail.unicodeScalars.contains { $0.value < 0x20 }, "\(error.detail)")
            #expect(error.description.hasPrefix("syntax: "))
        }
    }

    @Test func byteAndStringEntryPointsAgree() {
        let lines = ["2.5", Bench.voltLine(seq: 3, volts: 2.5), Bench.helloLine, "junk", "$VOLT*00", ""]
        for line in lines {
            let viaString = Result { () throws(LineRejection) in try FrameParser.parse(line) }
            let viaBytes = Array(line.utf8).withUnsafeBufferPointer { bytes in
                Result { () throws(LineRejection) in try FrameParser.parse(bytes) }
            }
            #expect(viaString == viaBytes, "\(line)")
        }
    }

    @Test func rejectionsAreCountedByReasonInTheStream() {
        var stream = DeviceStream(device: "bench", config: .default)
        let lines = [
            Bench.voltLine(seq: 0, volts: 2.5),
            "$VOLT,1,100,512,2.500",                        // checksum
            FrameParser.sentence("VOLT,1,100,512,2.500") + "0",  // checksum (three digits)
            "garbage",                                       // syntax
            FrameParser.sentence("PING"),                    // syntax
            "",                                              // syntax
            FrameParser.sentence("VOLT,2,200,70000,2.5"),    // out of range
            Bench.voltLine(seq: 1, volts: 2.5),
        ]
        var outputs: [DeviceStream.Output] = []
        for (i, line) in lines.enumerated() {
            outputs.append(stream.ingest(line: line, receivedAtMs: Bench.startMs + Int64(i) * 100))
        }
        stream.countOverlong(2)
        var expected = RejectionCounts()
        expected.checksum = 2
        expected.syntax = 3
        expected.outOfRange = 1
        expected.tooLong = 2
        #expect(stream.counters.invalid == expected)
        #expect(stream.counters.invalid.total == 8)
        #expect(stream.counters.frames == 2)
        let rejected = outputs.filter { if case .rejected = $0 { true } else { false } }
        #expect(rejected.count == 6)
    }

    @Test func rejectionCountsSubscriptAndAdd() {
        var a = RejectionCounts()
        for (i, reason) in RejectionReason.allCases.enumerated() { a[reason] = i + 1 }
        #expect(a.checksum == 1 && a.syntax == 2 && a.tooLong == 3 && a.outOfRange == 4)
        var b = a
        b.add(a)
        #expect(b.total == 20)
        #expect(RejectionReason.tooLong.description == "too_long")
        #expect(RejectionReason.outOfRange.rawValue == "out_of_range")
    }
}
