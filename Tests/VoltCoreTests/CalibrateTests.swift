import Testing
@testable import VoltCore

/// `voltwatch calibrate`'s pure parts: averaging a point, the rules of the two-point method,
/// what a person may type, the divider's syntax, the settings entry it writes, and the agent's
/// messages it reads.
@Suite("Calibrate")
struct CalibrateTests {
    // MARK: Averaging

    @Test func anAverageTakesExactlyItsReadingsAndTellsTheirSpread() throws {
        var average = PinAverage(count: 3)
        #expect(average.add(1.0) == nil)
        #expect(average.add(.nan) == nil, "a non-finite reading is skipped, not counted")
        #expect(average.add(1.004) == nil)
        let last = average.add(0.999)
        let result = try #require(last)
        #expect(abs(result.mean - 1.001) < 1e-12)
        #expect(abs(result.spread - 0.005) < 1e-12)
        #expect(average.add(5.0) == result, "readings after the last change nothing")
        #expect(average.taken == 3)
    }

    // MARK: Two points

    @Test func twoPointsMakeTheLineThroughThem() throws {
        var capture = TwoPointCapture(samples: 3)
        #expect(capture.add(pinVolts: 0.5) == .ignored, "readings before the value is typed are not part of a point")
        #expect(capture.enter(value: 11) == .measuring(point: 1))
        #expect(capture.enter(value: 12) == .ignored, "no second value while the first is measured")
        #expect(capture.add(pinVolts: 1.0) == .progress(taken: 1))
        #expect(capture.add(pinVolts: 1.0) == .progress(taken: 2))
        #expect(capture.add(pinVolts: 1.0) == .firstPoint(.init(pinVolts: 1.0, value: 11), spread: 0))
        #expect(capture.stage == .awaitingValue(point: 2))
        #expect(capture.enter(value: 22) == .measuring(point: 2))
        _ = capture.add(pinVolts: 2.0)
        _ = capture.add(pinVolts: 2.0)
        guard case .finished(let calibration, let second, _) = capture.add(pinVolts: 2.0) else {
            Issue.record("not finished: \(capture.stage)")
            return
        }
        #expect(second == .init(pinVolts: 2.0, value: 22))
        #expect(calibration.form == .points(.init(pinVolts: 1.0, value: 11), .init(pinVolts: 2.0, value: 22)))
        #expect(calibration.value(pinVolts: 1.0) == 11 && calibration.value(pinVolts: 2.0) == 22)
        #expect(capture.calibration == calibration)
        #expect(!capture.isPoorlySeparated)
        #expect(capture.add(pinVolts: 3.0) == .ignored)
    }

    @Test func theSecondValueMustDifferAndItsReadingMustBeAMillivoltAway() throws {
        var capture = TwoPointCapture(samples: 1)
        _ = capture.enter(value: 11)
        _ = capture.add(pinVolts: 1.0)
        #expect(capture.enter(value: 11) == .sameValueAsFirst)
        #expect(capture.stage == .awaitingValue(point: 2), "asked again")
        #expect(capture.enter(value: 22) == .measuring(point: 2))
        #expect(capture.add(pinVolts: 1.0009) == .tooClose(first: .init(pinVolts: 1.0, value: 11), pinVolts: 1.0009))
        #expect(capture.stage == .awaitingValue(point: 2), "asked again for a value farther away")
        _ = capture.enter(value: 22)
        guard case .finished(let calibration, _, _) = capture.add(pinVolts: 1.002) else {
            Issue.record("2 mV apart is enough: \(capture.stage)")
            return
        }
        #expect(abs(calibration.scale - 5_500) < 1e-6)
    }

    @Test func pointsAreKeptToTenMicrovoltsAndNoiseIsNoticed() throws {
        var capture = TwoPointCapture(samples: 3)
        _ = capture.enter(value: 5)
        for v in [1.0, 1.0, 1.0014699] { _ = capture.add(pinVolts: v) }
        #expect(capture.first?.pinVolts == 1.00049)
        _ = capture.enter(value: 6)
        // 2 mV apart, but each point's readings spread over 5 mV: the slope is mostly noise.
        for v in [0.998, 1.003, 1.006] { _ = capture.add(pinVolts: v) }
        #expect(capture.calibration != nil)
        #expect(capture.isPoorlySeparated)
    }

    // MARK: Answers

    @Test func valuesAreNumbersWithOrWithoutTheUnit() {
        #expect(PromptAnswer.parse(value: "11", unit: "V") == .number(11))
        #expect(PromptAnswer.parse(value: "  12.6 V ", unit: "V") == .number(12.6))
        #expect(PromptAnswer.parse(value: "12.6v", unit: "V") == .number(12.6))
        #expect(PromptAnswer.parse(value: "-2.5 A", unit: "A") == .number(-2.5))
        #expect(PromptAnswer.parse(value: "12,6", unit: "V") == .number(12.6), "a decimal comma")
        #expect(PromptAnswer.parse(value: "q", unit: "V") == .quit)
        #expect(PromptAnswer.parse(value: " Quit", unit: "V") == .quit)
        for bad in ["", "abc", "nan", "inf", "12 A", "1,000.5", "0x10"] {
            guard case .invalid = PromptAnswer.parse(value: bad, unit: "V") else {
                Issue.record("\"\(bad)\" was taken as a value")
                continue
            }
        }
        guard case .invalid(let why) = PromptAnswer.parse(value: "1e10", unit: "V") else { Issue.record("1e10 accepted"); return }
        #expect(why.contains("1e9"))
    }

    @Test func textAnswersKeepOnEnterAndQuitOnQ() {
        #expect(PromptAnswer.parse(text: "") == .keep)
        #expect(PromptAnswer.parse(text: "   ") == .keep)
        #expect(PromptAnswer.parse(text: "q") == .quit)
        #expect(PromptAnswer.parse(text: " House battery ") == .text("House battery"))
    }

    // MARK: Dividers

    @Test func aDividerIsWrittenInOhmsOrAsOnTheResistor() {
        #expect(DividerOhms.parse("100000,10000") == DividerOhms(top: 100_000, bottom: 10_000))
        #expect(DividerOhms.parse("100k,10k") == DividerOhms(top: 100_000, bottom: 10_000))
        #expect(DividerOhms.parse("4k7, 1k") == DividerOhms(top: 4_700, bottom: 1_000))
        #expect(DividerOhms.parse("1M,47k") == DividerOhms(top: 1_000_000, bottom: 47_000))
        #expect(DividerOhms.parse("0,10k") == DividerOhms(top: 0, bottom: 10_000), "no top resistor: the pin itself")
        for bad in ["1,0", "100k", "a,b", "100k,10k,1k", "-1,10", "1k5k,1", ",10"] {
            #expect(DividerOhms.parse(bad) == nil, "\(bad)")
        }
        #expect(DividerOhms.parse("100k,10k")?.calibration.scale == 11)
    }

    // MARK: Settings

    static let settings = """
        {"channels": {
          "board/A1": {"name": "House battery", "unit": "V", "calibration": {"scale": 3}, "min": 11.8, "max": 14.8},
          "plain": {"name": "Bench supply"},
          "other/A2": {"unit": "A"}
        },
         "boards": {"board": {"channels": "A0+A1", "period_ms": 100}},
         "cors_origins": ["https://dash.example"]}
        """

    @Test func streamIdsAreCheckedAndSpelledAsResultsSpellThem() {
        #expect(AgentSettings.streamIDProblem("fake/A1") == nil)
        #expect(AgentSettings.streamIDProblem("arduino-uno-8573") == nil)
        #expect(AgentSettings.streamIDProblem("fake/A9") != nil)
        #expect(AgentSettings.streamIDProblem("a/b/c") != nil)
        #expect(AgentSettings.streamIDProblem("") != nil)
        #expect(AgentSettings.canonicalStreamID("fake/a1") == "fake/A1")
        #expect(AgentSettings.namesSameStream("dev", "dev/A0"))
        #expect(AgentSettings.namesSameStream("dev/a0", "dev"))
        #expect(!AgentSettings.namesSameStream("dev", "dev/A1"))
        #expect(!AgentSettings.namesSameStream("dev/A1", "dev2/A1"))
    }

    @Test func anUpdateReplacesTheCalibrationAndKeepsTheRest() throws {
        let settings = try AgentSettings.parse(json: Self.settings)
        let line = try #require(Calibration.points(.init(pinVolts: 1, value: 11), .init(pinVolts: 2, value: 22)))
        let (next, key) = try settings.updating(stream: "board/A1", with: ChannelUpdate(calibration: line))
        #expect(key == "board/A1")
        let entry = try #require(next.channels["board/A1"])
        #expect(entry.calibration == line)
        #expect(entry.name == "House battery" && entry.unit == "V" && entry.min == 11.8 && entry.max == 14.8)
        #expect(next.channels["plain"] == settings.channels["plain"] && next.channels["other/A2"] == settings.channels["other/A2"])
        #expect(next.boards == settings.boards && next.corsOrigins == ["https://dash.example"], "the rest of the file is kept")
        // What is written loads back as the same settings.
        #expect(try AgentSettings.parse(json: next.jsonText()) == next)
    }

    @Test func anUpdateMakesANewEntryOrUsesTheKeyTheFileHas() throws {
        let settings = try AgentSettings.parse(json: Self.settings)
        let (made, madeKey) = try settings.updating(
            stream: "fake/a3", with: ChannelUpdate(calibration: .divider(topOhms: 100_000, bottomOhms: 10_000), name: "Battery"))
        #expect(madeKey == "fake/A3")
        #expect(made.channels["fake/A3"] == ChannelSettings(name: "Battery", calibration: .divider(topOhms: 100_000, bottomOhms: 10_000)))
        // "plain" is the file's key for plain/A0: it stays the one entry, never a second.
        #expect(settings.key(forStream: "plain/A0") == "plain")
        let (aliased, aliasKey) = try settings.updating(stream: "plain/A0", with: ChannelUpdate(unit: "A"))
        #expect(aliasKey == "plain" && aliased.channels["plain/A0"] == nil)
        #expect(aliased.channels["plain"]?.unit == "A" && aliased.channels["plain"]?.name == "Bench supply")
        #expect(settings.entry(forStream: "nothing/A1") == nil)
    }

    @Test func anUpdateTheAgentWouldRefuseIsRefused() throws {
        let settings = try AgentSettings.parse(json: Self.settings)
        #expect(throws: ConfigError.self) { try settings.updating(stream: "board/A1", with: ChannelUpdate(max: 10)) }
        #expect(throws: ConfigError.self) {
            try settings.updating(stream: "board/A1", with: ChannelUpdate(name: String(repeating: "x", count: 65)))
        }
        #expect(throws: ConfigError.self) { try settings.updating(stream: "board/A1", with: ChannelUpdate(unit: "a\tb")) }
        do {
            _ = try settings.updating(stream: "board/A1", with: ChannelUpdate(min: 20))
            Issue.record("min above max accepted")
        } catch {
            #expect(error.issues.contains { $0.key == "channels.board/A1.max" })
        }
    }

    // MARK: The agent's messages

    @Test func resultsGiveThePinReadingAndTheValue() {
        let channel = #"{"event":"anomaly_result","data":{"anomaly_score":0.1,"voltage":22.0,"device":"fake/A1","channel":"A1","name":"House battery","unit":"V","adc_raw":409,"pin_volts":2.0}}"#
        #expect(AgentMessage.parse(channel) == .result(StreamReading(stream: "fake/A1", pinVolts: 2.0, value: 22.0, unit: "V", name: "House battery")))
        let plain = #"{"event":"anomaly_result","data":{"anomaly_score":0.1,"voltage":2.5,"device":"arduino-uno-1"}}"#
        #expect(AgentMessage.parse(plain) == .result(StreamReading(stream: "arduino-uno-1", pinVolts: 2.5, value: 2.5)))
        #expect(AgentMessage.parse(#"{"event":"anomaly_result","data":{"device":"x"}}"#) == nil)
    }

    @Test func helloNamesTheStreamsTheAgentKnows() {
        let hello = #"{"event":"hello","data":{"version":"1","devices":[{"device":"fake","state":"connected"}],"recent":[{"device":"fake/A1","voltage":1},{"device":"fake/A0","voltage":1},{"device":"fake/A1","voltage":1}]}}"#
        #expect(AgentMessage.parse(hello) == .hello(streams: ["fake", "fake/A0", "fake/A1"]))
        #expect(AgentMessage.parse(#"{"event":"error","data":{"message":"the token is not valid"}}"#) == .error("the token is not valid"))
        #expect(AgentMessage.parse(#"{"event":"device_status","data":{}}"#) == .other("device_status"))
        #expect(AgentMessage.parse("not json") == nil)
        #expect(AgentMessage.parse(#"{"data":{}}"#) == nil)
    }

    // MARK: The agent's address

    @Test func theAgentIsReachedAtItsWebSocketEndpoint() throws {
        #expect(AgentEndpoint("http://127.0.0.1:5000")?.webSocketURL() == "ws://127.0.0.1:5000/ws")
        #expect(AgentEndpoint("http://127.0.0.1:5000/")?.webSocketURL() == "ws://127.0.0.1:5000/ws")
        #expect(AgentEndpoint("localhost:5001")?.webSocketURL() == "ws://localhost:5001/ws")
        #expect(AgentEndpoint("ws://gw:5000/ws")?.webSocketURL() == "ws://gw:5000/ws")
        #expect(AgentEndpoint("https://gw.example/voltwatch/")?.webSocketURL() == "wss://gw.example/voltwatch/ws")
        #expect(AgentEndpoint("http://[::1]:5000")?.webSocketURL(token: "a b&c=é") == "ws://[::1]:5000/ws?token=a%20b%26c%3D%C3%A9")
        for bad in ["", "ftp://x", "http://", "http://user@host", "host:99999", "host:x"] {
            #expect(AgentEndpoint(bad) == nil, "\(bad)")
        }
        let local = try #require(AgentEndpoint(AgentEndpoint.defaultAgent))
        #expect(local.isLocal && local.effectivePort == 5000)
        let remote = try #require(AgentEndpoint("https://gw.example"))
        #expect(!remote.isLocal && remote.effectivePort == 443)
    }

    // MARK: Numbers for people

    @Test func numbersAreShownWithAFewSignificantDigits() throws {
        #expect(ReadableNumber.format(11) == "11")
        #expect(ReadableNumber.format(10.994605918) == "10.9946")
        #expect(ReadableNumber.format(-13.51) == "-13.51")
        #expect(ReadableNumber.format(0.000123456789) == "0.000123457")
        #expect(ReadableNumber.format(100_000) == "100000")
        #expect(ReadableNumber.format(0) == "0")
        #expect(ReadableNumber.formula(Calibration(scale: 5.405, offset: -13.51)) == "value = 5.405 × pin − 13.51")
        #expect(ReadableNumber.formula(try #require(Calibration.points(.init(pinVolts: 1, value: 11), .init(pinVolts: 2, value: 22))))
                == "value = 11 × pin")
    }
}
