import Testing
@testable import VoltCore

/// A board with a battery on A0 and a panel on A1 is two signals, each in its own unit: the
/// frames that carry channels, the settings that name and calibrate them, and the streams that
/// score them apart.
@Suite("Channels")
struct ChannelTests {
    static func volts(_ seq: UInt32, _ readings: [(String, Int, Double)], uptime: UInt32? = nil) -> String {
        let body = readings.map { "\($0.0),\($0.1),\(FixedPoint.format($0.2, digits: 3))" }.joined(separator: ",")
        return FrameParser.sentence("VOLTS,\(seq),\(uptime ?? 1_000 + seq * 100),\(body)")
    }

    // MARK: Frames

    @Test func aVoltsFrameCarriesEveryChannelOfOnePeriod() throws {
        let frame = try FrameParser.parse(Self.volts(7, [("A0", 512, 2.5), ("A1", 675, 3.3), ("A5", 0, 0)]))
        guard case .channels(let channels) = frame else { Issue.record("not a $VOLTS frame: \(frame)"); return }
        #expect(channels.seq == 7)
        #expect(channels.readings.map(\.channel.name) == ["A0", "A1", "A5"])
        #expect(channels.readings.map(\.adcRaw) == [512, 675, 0])
        #expect(channels.readings[1].volts == 3.3)
    }

    @Test func channelsMustBeKnownAscendingAndComplete() {
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100,A6,1,0.1")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100,A1,1,0.1,A0,1,0.1")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100,A1,1,0.1,A1,1,0.1")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100,A1,1")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("VOLTS,1,100,A1,1,1e9")) == .outOfRange)
        #expect(FrameParserTests.rejection(FrameParserTests.wrongChecksum("VOLTS,1,100,A1,1,0.1")) == .checksum)
    }

    @Test func helloNamesTheChannelSetOrLeavesItToOldFirmware() throws {
        let new = try FrameParser.parse(FrameParser.sentence("HELLO,voltage_monitor,1.1.0,uno,5000,10,100,A0+A1+A2"))
        #expect(new == .hello(Hello(firmware: "voltage_monitor", version: "1.1.0", board: "uno", vrefMillivolts: 5000,
                                    adcBits: 10, periodMs: 100, channels: AnalogChannel.parseSet("A0+A1+A2"))))
        let old = try FrameParser.parse(FrameParser.sentence("HELLO,voltage_monitor,1.0.0,uno,5000,10,100"))
        guard case .hello(let hello) = old else { Issue.record("not a hello"); return }
        #expect(hello.channels == nil)
        #expect(FrameParserTests.rejection(FrameParser.sentence("HELLO,v,1,uno,5000,10,100,A0+A0")) == .syntax)
        #expect(FrameParserTests.rejection(FrameParser.sentence("HELLO,v,1,uno,5000,10,100,A0,x")) == .syntax)
    }

    // MARK: Calibration

    @Test func everyFormOfCalibrationIsALine() throws {
        let divider = Calibration.divider(topOhms: 100_000, bottomOhms: 10_000)
        #expect(divider.value(pinVolts: 1.146) == 11 * 1.146)
        let points = try #require(Calibration.points(.init(pinVolts: 1.0, value: 11), .init(pinVolts: 2.0, value: 22)))
        #expect(abs(points.value(pinVolts: 1.5) - 16.5) < 1e-12)
        #expect(Calibration.points(.init(pinVolts: 1.0, value: 11), .init(pinVolts: 1.0, value: 22)) == nil)
        #expect(Calibration(scale: 5.405, offset: -13.51).formula == "value = 5.405 × pin − 13.51")
    }

    // MARK: Settings

    static let settingsJSON = """
        {"channels": {
          "board/A1": {"name": "House battery", "unit": "V", "calibration": {"divider_ohms": [20000, 10000]}, "min": 9, "max": 14.8},
          "board/A2": {"name": "Panel current", "unit": "A", "calibration": {"scale": 2, "offset": -1}},
          "plain": {"name": "Bench supply", "calibration": {"points": [[1.0, 5.0], [2.0, 10.0]]}}
        }}
        """

    @Test func settingsNameAStreamByDeviceAndChannel() throws {
        let settings = try AgentSettings.parse(json: Self.settingsJSON)
        #expect(settings.settings(device: "board", channel: AnalogChannel(name: "A1"))?.name == "House battery")
        #expect(settings.settings(device: "board", channel: AnalogChannel(name: "A3")) == nil)
        // A single-signal board is its A0: "plain" and "plain/A0" name the same stream.
        #expect(settings.settings(device: "plain", channel: nil)?.unit == "V")
        #expect(settings.settings(device: "plain", channel: .a0)?.name == "Bench supply")
        // Written back, they read the same.
        #expect(try AgentSettings.parse(json: settings.jsonText()) == settings)
        #expect(try AgentSettings.parse(json: settings.compactJSON()) == settings)
    }

    @Test func aBrokenSettingsFileNamesEveryProblem() {
        let json = """
            {"channels": {"b/A9": {}, "b/A1": {"nam": "x", "unit": "", "calibration": {"scale": 0}, "min": 5, "max": 1},
                          "c": {"calibration": {"points": [[1, 2], [1, 3]]}}, "c/A0": {}}, "mqtt": 1}
            """
        do {
            _ = try AgentSettings.parse(json: json, source: "settings.json")
            Issue.record("accepted a broken file")
        } catch {
            let keys = Set(error.issues.compactMap(\.key))
            #expect(keys.isSuperset(of: ["channels.b/A9", "channels.b/A1.nam", "channels.b/A1.unit", "channels.b/A1.calibration.scale",
                                         "channels.b/A1.max", "channels.c.calibration.points", "channels.c", "mqtt"]), "\(error)")
            #expect(error.description.hasPrefix("invalid configuration in settings.json"))
        }
        #expect(throws: ConfigError.self) { try AgentSettings.parse(json: "{\"channels\": {\"a\": {}, \"a\": {}}}") }
    }

    // MARK: Streams

    /// Three channels at steady levels; A1 gets one spike at sample 150.
    static func frames(count: Int, spikeAt: Int? = nil) -> [String] {
        var random = SplitMix64(seed: 5)
        return (0..<count).map { i in
            func level(_ v: Double) -> Double { ((v + random.gaussian() * 0.004) / Bench.step).rounded() * Bench.step }
            let a1 = i == spikeAt ? 4.5 : level(3.3)
            return volts(UInt32(i), [("A0", 512, level(2.5)), ("A1", Int(a1 / Bench.step), a1), ("A2", 337, level(1.65))])
        }
    }

    @Test func eachChannelIsScoredApartAndASpikeAlarmsOnlyItsChannel() {
        var stream = DeviceStream(device: "board", config: .default, settings: (try? AgentSettings.parse(json: Self.settingsJSON)) ?? .empty)
        var anomalous: [String: Int] = [:]
        var seen: Set<String> = []
        for (i, line) in Self.frames(count: 300, spikeAt: 150).enumerated() {
            guard case .channels(let results) = stream.ingest(line: line, receivedAtMs: Bench.startMs + Int64(i) * 100) else {
                Issue.record("line \(i) gave no channel results")
                return
            }
            #expect(results.map(\.stream) == ["board/A0", "board/A1", "board/A2"])
            for r in results {
                seen.insert(r.stream)
                if r.result.isAnomaly { anomalous[r.stream, default: 0] += 1 }
            }
        }
        #expect(seen.count == 3)
        #expect(anomalous["board/A1", default: 0] >= 1, "the spike on A1 alarms A1")
        #expect(anomalous["board/A0", default: 0] == 0 && anomalous["board/A2", default: 0] == 0, "\(anomalous)")
        #expect(stream.activeSignals.map(\.id) == ["board/A0", "board/A1", "board/A2"])
        #expect(stream.counters.frames == 300)
    }

    @Test func resultsCarryTheCalibratedValueTheRawReadingAndTheLabel() throws {
        var stream = DeviceStream(device: "board", config: .default, settings: try AgentSettings.parse(json: Self.settingsJSON))
        guard case .channels(let results) = stream.ingest(line: Self.volts(0, [("A1", 675, 3.296), ("A2", 337, 1.646), ("A3", 100, 0.488)]),
                                                          receivedAtMs: Bench.startMs) else { Issue.record("no results"); return }
        let battery = results[0].result
        #expect(battery.voltage == 9.888)            // 3 × 3.296, rounded to a micro-volt
        #expect(battery.pinVolts == 3.296 && battery.adcRaw == 675)
        #expect(battery.label == StreamLabel(channel: AnalogChannel(name: "A1"), name: "House battery", unit: "V"))
        #expect(results[1].result.voltage == 2.292 && results[1].result.label?.unit == "A")
        // An unnamed channel still says which channel it is, in volts at the pin.
        #expect(results[2].result.label == StreamLabel(channel: AnalogChannel(name: "A3"), name: nil, unit: "V"))
        #expect(results[2].result.pinVolts == nil && results[2].result.voltage == 0.488)
        let json = ResultEncoder.json(battery, device: results[0].stream)
        #expect(json.hasSuffix(#""episode":null,"channel":"A1","name":"House battery","unit":"V","adc_raw":675,"pin_volts":3.296}"#), "\(json)")
    }

    @Test func aPlainBoardKeepsTheOriginalResultFormat() throws {
        var stream = DeviceStream(device: "uno", config: .default, settings: try AgentSettings.parse(json: Self.settingsJSON))
        guard case .result(let result) = stream.ingest(line: FrameParser.sentence("VOLT,0,100,512,2.500"), receivedAtMs: Bench.startMs) else {
            Issue.record("no result"); return
        }
        #expect(result.label == nil)
        #expect(ResultEncoder.json(result, device: "uno").hasSuffix(#""reasons":[],"episode":null}"#))
    }

    @Test func limitsAndReasonsSpeakTheChannelsUnit() throws {
        var stream = DeviceStream(device: "board", config: .default, settings: try AgentSettings.parse(json: Self.settingsJSON))
        // 2.5 V at the pin is 7.5 V of battery: below the 9 V limit.
        guard case .channels(let results) = stream.ingest(line: Self.volts(0, [("A1", 512, 2.5)]), receivedAtMs: Bench.startMs) else {
            Issue.record("no results"); return
        }
        #expect(results[0].result.kinds.contains(.outOfRange))
        #expect(results[0].result.reasons.first == "out_of_range: 7.500 V is below the 9.000 V limit")
        var amps = DeviceStream(device: "board", config: .default,
                                settings: try AgentSettings.parse(json: #"{"channels": {"board/A2": {"unit": "A", "max": 1}}}"#))
        guard case .channels(let high) = amps.ingest(line: Self.volts(0, [("A2", 512, 2.5)]), receivedAtMs: Bench.startMs) else {
            Issue.record("no results"); return
        }
        #expect(high[0].result.reasons.first == "out_of_range: 2.500 A is above the 1.000 A limit")
    }

    @Test func aHelloEndsEveryChannelsAlarm() {
        var stream = DeviceStream(device: "board", config: .default)
        for (i, line) in Self.frames(count: 151, spikeAt: 150).enumerated() {
            _ = stream.ingest(line: line, receivedAtMs: Bench.startMs + Int64(i) * 100)
        }
        #expect(stream.channelSignals[1]?.episodes.current != nil, "the spike opened an episode on A1")
        _ = stream.ingest(line: FrameParser.sentence("HELLO,v,1,uno,5000,10,100,A0+A1+A2"), receivedAtMs: Bench.startMs + 15_100)
        #expect(stream.endedEpisodes.map(\.stream) == ["board/A1"])
        #expect(stream.channelSignals[1]?.episodes.current == nil)
    }

    // MARK: Replay

    @Test func aReplayAppliesTheSettingsARecordingCarriesUnderItsDevicesName() throws {
        let settings = try AgentSettings.parse(json: Self.settingsJSON).restricted(to: "board")
        var lines = ["# \(Bench.startMs - 5) \(RecordingEvent.header) device=board",
                     "# \(Bench.startMs - 5) \(RecordingEvent.settings) \(settings.compactJSON())"]
        for (i, frame) in Self.frames(count: 3).enumerated() { lines.append("\(Bench.startMs + Int64(i) * 100)\t\(frame)") }
        let (steps, replayer) = TraceReplayerTests.replay(lines.joined(separator: "\n"), device: "stem")
        let channels = steps.compactMap { if case .channels(let c) = $0 { c } else { nil } }.flatMap { $0 }
        #expect(channels.count == 9)
        #expect(channels.first { $0.stream == "board/A1" }?.result.label?.name == "House battery")
        #expect(channels.first { $0.stream == "board/A1" }.map { abs($0.result.voltage - 9.9) < 0.05 } == true)
        #expect(replayer.settingsProblem == nil)
    }
}
