import Foundation
import Testing
@testable import VoltCore

/// The `anomaly_result` JSON is a contract with phone apps and benchmark scripts: names,
/// order, types and precision are DESIGN.md's.
@Suite("ResultEncoder")
struct ResultEncoderTests {
    static let fieldOrder = [
        "anomaly_score", "is_anomaly", "confidence", "timestamp", "voltage",
        "device", "seq", "severity", "kinds", "reasons", "episode",
    ]

    static func result(
        score: Double = 0.23, isAnomaly: Bool = false, confidence: Double = 0.87, timestampMs: Int64 = 1_732_170_000_123,
        voltage: Double = 2.502, seq: UInt32? = 42, severity: Severity = .normal, kinds: AnomalyKinds = [], reasons: [String] = []
    ) -> ScoredResult {
        ScoredResult(
            anomalyScore: score, isAnomaly: isAnomaly, confidence: confidence, timestampMs: timestampMs,
            voltage: voltage, seq: seq, severity: severity, kinds: kinds, reasons: reasons)
    }

    static func object(_ json: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try #require(value as? [String: Any])
    }

    /// The raw text of a top-level field's value (numbers only: up to the next comma).
    static func rawNumber(_ json: String, _ key: String) -> String? {
        guard let start = json.range(of: "\"\(key)\":")?.upperBound else { return nil }
        return String(json[start...].prefix { $0 != "," && $0 != "}" })
    }

    @Test func designExample() throws {
        let json = ResultEncoder.json(Self.result(), device: "arduino-uno-85736323838351E0C1A1")
        #expect(json == #"{"anomaly_score":0.23,"is_anomaly":false,"confidence":0.87,"timestamp":1732170000.123,"voltage":2.502,"device":"arduino-uno-85736323838351E0C1A1","seq":42,"severity":"normal","kinds":[],"reasons":[],"episode":null}"#)
        #expect(ResultEncoder.jsonLine(Self.result(), device: "arduino-uno-85736323838351E0C1A1") == json + "\n")
    }

    @Test func fieldsAreNamedAndOrderedAsDesigned() throws {
        let r = Self.result(score: 0.93, isAnomaly: true, severity: .critical, kinds: [.spike, .lostFrames], reasons: ["spike: x", "lost_frames: y"])
        let json = ResultEncoder.json(r, device: "dev")
        let object = try Self.object(json)
        #expect(Set(object.keys) == Set(Self.fieldOrder))
        let positions = Self.fieldOrder.map { json.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(json.hasPrefix(#"{"anomaly_score":"#))
        #expect(object["is_anomaly"] as? Bool == true)
        #expect(object["severity"] as? String == "critical")
        #expect(object["kinds"] as? [String] == ["spike", "lost_frames"])
        #expect(object["reasons"] as? [String] == ["spike: x", "lost_frames: y"])
        #expect(object["seq"] as? Int == 42)
        #expect(object["device"] as? String == "dev")
        #expect((object["voltage"] as? NSNumber)?.doubleValue == 2.502)
        #expect((object["confidence"] as? NSNumber)?.doubleValue == 0.87)
    }

    @Test("every severity is written as its name", arguments: Severity.allCases)
    func severityIsItsName(severity: Severity) throws {
        let object = try Self.object(ResultEncoder.json(Self.result(severity: severity), device: "d"))
        #expect(object["severity"] as? String == severity.rawValue)
    }

    /// The encoder reserves an upper bound of a result's length before writing it: the
    /// longest of everything must still fit (and come out as valid JSON with every value).
    @Test func theLongestResultFitsItsBound() throws {
        let reasons = (0..<11).map { "reason \($0): \"quoted\" \\ back\tslash \u{1} é " + String(repeating: "\"", count: 200) }
        var r = ScoredResult(
            anomalyScore: 0.30000000000000004, isAnomaly: true, confidence: 0.12345, timestampMs: .min,
            voltage: -2.2250738585072014e-308, seq: .max, severity: .critical, kinds: AnomalyKinds(AnomalyKind.allCases),
            reasons: reasons, episode: .max)
        r.adcRaw = .max
        r.pinVolts = -1.7976931348623157e308
        r.label = StreamLabel(channel: AnalogChannel(index: 5)!, name: String(repeating: "\"\u{7}", count: 300), unit: "°C \"x\"")
        let device = String(repeating: "\"", count: 100)
        for json in [ResultEncoder.json(r, device: device), ResultEncoder.jsonLine(r, device: device)] {
            let object = try Self.object(json)
            #expect(object["reasons"] as? [String] == reasons)
            #expect(object["kinds"] as? [String] == AnomalyKind.allCases.map(\.rawValue))
            #expect(object["device"] as? String == device)
            #expect(object["name"] as? String == r.label?.name)
            #expect(object["unit"] as? String == r.label?.unit)
            #expect(object["channel"] as? String == "A5")
            #expect((object["episode"] as? NSNumber)?.uint64Value == .max)
            #expect(Self.rawNumber(json, "pin_volts") == "-1.7976931348623157e+308")
            #expect(Self.rawNumber(json, "voltage") == "-2.2250738585072014e-308")
            #expect(Self.rawNumber(json, "timestamp") == "-9223372036854775.808")
        }
    }

    @Test func kindsAreWrittenInTheirFixedOrder() {
        let json = ResultEncoder.json(Self.result(kinds: [.lostFrames, .spike, .drift, .outOfRange]), device: "d")
        #expect(json.contains(#""kinds":["spike","drift","out_of_range","lost_frames"]"#))
    }

    @Test func anomalyScoreRoundTripsBitExactly() throws {
        var rng = SplitMix64(seed: 0x5C0DE)
        var scores: [Double] = [
            0, 1, 0.1 + 0.2, 0.7, 0.7.nextUp, 0.7.nextDown, 1.0.nextDown, 0.9999999999999999, 0.999999999999,
            .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-300, 0.5, 1.0 / 3,
        ]
        for _ in 0..<2_000 { scores.append(rng.unit() * (rng.next() % 2 == 0 ? 1 : 1e-5)) }
        for score in scores {
            let json = ResultEncoder.json(Self.result(score: score), device: "d")
            let text = try #require(Self.rawNumber(json, "anomaly_score"))
            #expect(Double(text)?.bitPattern == score.bitPattern, "\(score) written as \(text)")
            // Valid JSON. (Not compared bit for bit after JSONSerialization: Linux Foundation's
            // reader is itself off by an ulp on many inputs; the text is what must be exact.)
            let decoded = try #require(try Self.object(json)["anomaly_score"] as? NSNumber)
            #expect(abs(decoded.doubleValue - score) <= 1e-14 * max(score, 1e-300))
        }
    }

    @Test("timestamp is seconds with exactly three decimals", arguments: [
        (1_732_170_000_123 as Int64, "1732170000.123"),
        (1_732_170_000_005, "1732170000.005"),
        (1_732_170_000_050, "1732170000.050"),
        (1_732_170_000_000, "1732170000.000"),
        (999, "0.999"),
        (0, "0.000"),
        (-1_500, "-1.500"),
    ])
    func timestamp(ms: Int64, text: String) throws {
        let json = ResultEncoder.json(Self.result(timestampMs: ms), device: "d")
        #expect(Self.rawNumber(json, "timestamp") == text)
        let decoded = try Self.object(json)["timestamp"] as? NSNumber
        #expect(decoded.map { ($0.doubleValue * 1000).rounded() } == Double(ms))
    }

    @Test func seqIsNullWithoutAFrameCounter() throws {
        let json = ResultEncoder.json(Self.result(seq: nil), device: "app")
        #expect(json.contains(#""seq":null,"#))
        #expect(try Self.object(json)["seq"] is NSNull)
        #expect(ResultEncoder.json(Self.result(seq: .max), device: "d").contains(#""seq":4294967295,"#))
    }

    @Test("device names are escaped", arguments: [
        #"quote"in"side"#, #"back\slash"#, "new\nline", "tab\there", "cr\rlf", "bell\u{07}", "nul\u{0}byte",
        "esc\u{1B}[31m", "unicode ✓ 電圧", "/dev/ttyACM0", "\u{7F}del", "",
    ])
    func deviceEscaping(device: String) throws {
        let json = ResultEncoder.json(Self.result(), device: device)
        #expect(!json.unicodeScalars.contains { $0.value < 0x20 }, "no raw control characters in \(json)")
        #expect(try Self.object(json)["device"] as? String == device)
    }

    @Test func escapesAreTheShortForms() {
        #expect(JSONText.string("a\"b\\c\nd\re\tf\u{01}g\u{1F}") == #""a\"b\\c\nd\re\tf\u0001g\u001f""#)
    }

    @Test func reasonsAreEscapedToo() throws {
        let reasons = [#"spike: "4.91 V" is 38 MADs above"#, "two\nlines"]
        let json = ResultEncoder.json(Self.result(isAnomaly: true, kinds: [.spike], reasons: reasons), device: "d")
        #expect(try Self.object(json)["reasons"] as? [String] == reasons)
    }

    @Test func numbersAreValidJSON() {
        #expect(JSONText.number(2) == "2")
        #expect(JSONText.number(-0.5) == "-0.5")
        #expect(JSONText.number(1e-7) == "1e-07")
        #expect(JSONText.number(.nan) == "null")
        #expect(JSONText.number(.infinity) == "null")
        #expect(JSONText.number(1e300) == "1e+300")
    }

    @Test func scorerOutputEncodesToValidJSON() throws {
        let results = Bench.score(Bench.eventful(seed: 3))
        var anomalies = 0
        for r in results {
            let object = try Self.object(ResultEncoder.json(r, device: "bench"))
            #expect(object["is_anomaly"] as? Bool == r.isAnomaly)
            #expect((object["kinds"] as? [String])?.count == r.kinds.map(\.rawValue).count)
            if r.isAnomaly { anomalies += 1 }
        }
        #expect(anomalies > 0)
    }

    @Test func fixedPointFormatsForPeople() {
        #expect(FixedPoint.format(2.5) == "2.500")
        #expect(FixedPoint.format(-0.0004) == "0.000")
        #expect(FixedPoint.format(-0.0005) == "-0.001")
        #expect(FixedPoint.format(4.9149, digits: 2) == "4.91")
        #expect(FixedPoint.format(38.4, digits: 0) == "38")
        #expect(FixedPoint.format(0.05, digits: 1) == "0.1")
        #expect(FixedPoint.format(1234.5678, digits: 3) == "1234.568")
    }
}
