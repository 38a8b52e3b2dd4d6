import Testing
@testable import VoltCore

/// `voltwatch replay` reads three formats, told apart by their first meaningful line, and a
/// replay must score exactly what the live agent scored.
@Suite("TraceReplayer")
struct TraceReplayerTests {
    /// Feeds `text` line by line, numbered from 1, as the CLI reads a file.
    static func replay(_ text: String, config: ModelConfig = .default, device: String = "bench")
        -> (steps: [TraceReplayer.Step], replayer: TraceReplayer)
    {
        var replayer = TraceReplayer(device: device, config: config)
        var steps: [TraceReplayer.Step] = []
        // Split on the byte: as a Character, "\r\n" is one grapheme and would not split on "\n".
        for (i, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            steps.append(Array(line).withUnsafeBufferPointer { replayer.feed(line: $0, number: i + 1) })
        }
        return (steps, replayer)
    }

    static func results(_ steps: [TraceReplayer.Step]) -> [ScoredResult] {
        steps.compactMap { if case .result(let r) = $0 { r } else { nil } }
    }

    static func errors(_ steps: [TraceReplayer.Step]) -> [TraceError] {
        steps.compactMap { if case .error(let e) = $0 { e } else { nil } }
    }

    /// The bench signal as a recording: `<epoch_ms>\t<line>`, with event lines, a reboot, a
    /// bad checksum, a lost frame, a spike and a dropout.
    static let recording: String = {
        var lines = [
            "# \(Bench.startMs - 5) \(RecordingEvent.header) device=arduino-uno-85736323838351E0C1A1",
            "# \(Bench.startMs - 1) connected /dev/ttyACM0",
            "\(Bench.startMs)\t\(Bench.helloLine)",
        ]
        var t = Bench.startMs
        var seq: UInt32 = 0
        for (i, v) in Bench.quiet(seconds: 60, seed: 77).enumerated() {
            t += 100 + Int64(i % 3)           // a little receive jitter
            if i == 300 { t += 3_000 }        // dropout
            if i == 400 { seq += 2 }          // two frames lost
            let volts = i == 500 ? v + 0.6 : v
            lines.append("\(t)\t\(Bench.voltLine(seq: seq, volts: volts))")
            if i == 200 { lines.append("\(t + 1)\t$VOLT,1,2,3,4*00") }
            if i == 250 { lines.append("\(t + 1)\t" + String(repeating: "9", count: 140)) }
            seq += 1
        }
        lines.append("# \(t + 5) disconnected")
        return lines.joined(separator: "\n") + "\n"
    }()

    // MARK: Format detection

    @Test("detects the format from the first meaningful line", arguments: [
        ("1732170000123\t$VOLT,1,2,3,4*00", TraceFormat.recording),
        ("# 1732170000000 voltwatch recording device=x", .recording),
        ("  1732170000123\t2.5", .recording),
        (Bench.voltLine(seq: 0, volts: 2.5), .serial),
        (Bench.helloLine, .serial),
        ("2.5", .serial),
        ("-0.125", .serial),
        ("garbage without commas", .serial),
        ("timestamp_ms,voltage", .csv),
        ("timestamp,value", .csv),
        ("\u{FEFF}timestamp,voltage,label", .csv),
        ("\"timestamp\",\"voltage\"", .csv),
    ])
    func detection(line: String, format: TraceFormat) {
        #expect(TraceFormat.detect(firstLine: line) == format)
    }

    @Test func leadingBlankLinesDoNotDecideTheFormat() {
        let (steps, replayer) = Self.replay("\n   \n\r\ntimestamp_ms,voltage\n1000,2.5\n")
        #expect(replayer.format == .csv)
        #expect(Self.results(steps).count == 1)
    }

    // MARK: Recordings

    @Test func recordingIsScoredWithItsReceiveTimes() {
        let (steps, replayer) = Self.replay(Self.recording)
        #expect(replayer.format == .recording)
        #expect(replayer.errorCount == 0)
        #expect(replayer.recordedDevice == "arduino-uno-85736323838351E0C1A1")
        let results = Self.results(steps)
        #expect(results.count == 600)
        #expect(results.first?.timestampMs == Bench.startMs + 100)
        #expect(results.first?.seq == 0)
        let events = steps.compactMap { if case .event(let e) = $0 { e } else { nil } }
        #expect(events.count == 3)
        #expect(events[1].hasSuffix("connected /dev/ttyACM0"))
        #expect(steps.contains { if case .hello(let h) = $0 { h.board == "uno" } else { false } })
        #expect(results.indices(of: .dropout) == [300])
        #expect(results.indices(of: .lostFrames) == [400])
        #expect(results.indices(of: .spike) == [500])
        #expect(replayer.counters.invalid.checksum == 1)
        #expect(replayer.counters.invalid.tooLong == 1)
        #expect(replayer.counters.lost == 2)
        #expect(replayer.counters.hellos == 1)
    }

    @Test func recordingLinesWithoutATimestampAreErrorsWithTheirLineNumber() {
        let text = [
            "# 1732170000000 connected",                            // 1
            "1732170000100\t2.50",                                  // 2
            "garbage",                                              // 3
            "1732170000200 2.51",                                   // 4: space, not tab
            "\t2.52",                                               // 5: no time
            "17321700003x0\t2.53",                                  // 6
            "1732170000400",                                        // 7: no tab
            "123456789012345678\t2.54",                             // 8: too many digits
            "1732170000500\t2.55",                                  // 9
        ].joined(separator: "\n")
        let (steps, replayer) = Self.replay(text)
        #expect(Self.errors(steps).map(\.line) == [3, 4, 5, 6, 7, 8])
        #expect(replayer.errorCount == 6)
        #expect(Self.errors(steps).allSatisfy { $0.message.hasPrefix("expected <epoch_ms><TAB><line>") })
        #expect(Self.errors(steps).first?.description.hasPrefix("line 3: ") == true)
        // Processing continued around them.
        #expect(Self.results(steps).map(\.timestampMs) == [1_732_170_000_100, 1_732_170_000_500])
    }

    @Test func liveAndReplayAreIdenticalAtTheCore() {
        // Live: the serial reader hands each framed line and its receive time to a DeviceStream.
        var live = DeviceStream(device: "bench", config: .default)
        var liveOutputs: [DeviceStream.Output] = []
        for line in Self.recording.split(separator: "\n") where !line.hasPrefix("#") {
            let tab = line.firstIndex(of: "\t")!
            let payload = String(line[line.index(after: tab)...])
            if payload.utf8.count > LineFramer.defaultMaxLineLength {
                live.countOverlong(1)   // the framer never passes it on
                continue
            }
            liveOutputs.append(live.ingest(line: payload, receivedAtMs: Int64(line[..<tab])!))
        }
        // Replay: the recording of that session.
        let (steps, replayer) = Self.replay(Self.recording)
        let replayOutputs: [DeviceStream.Output] = steps.compactMap {
            switch $0 {
            case .result(let r): .result(r)
            case .hello(let h): .hello(h)
            case .rejected(let e) where e.reason != .tooLong: .rejected(e)
            default: nil
            }
        }
        #expect(replayOutputs.count == 602)
        #expect(replayOutputs == liveOutputs)
        #expect(replayer.counters == live.counters)
    }

    @Test func replayingTheSameInputTwiceIsByteIdentical() {
        func encoded() -> String {
            let (steps, replayer) = Self.replay(Self.recording)
            return Self.results(steps).map { ResultEncoder.jsonLine($0, device: replayer.stream.device) }.joined()
        }
        let first = encoded()
        let second = encoded()
        #expect(first == second)
        #expect(first.utf8.count > 600 * 150)
        #expect(first.contains(#""is_anomaly":true"#))
    }

    // MARK: Plain serial captures

    @Test func serialCaptureUsesTheBoardsUptime() {
        let text = [
            Bench.helloLine,
            Bench.voltLine(seq: 0, volts: 2.5, uptimeMs: 4_200),
            Bench.voltLine(seq: 1, volts: 2.5, uptimeMs: 4_300),
            String(FrameParser.sentence("VOLT,2,4400,512,2.500").dropLast(2)) + "ZZ",
            Bench.voltLine(seq: 3, volts: 2.5, uptimeMs: 4_500),
            Bench.voltLine(seq: 4, volts: 2.5, uptimeMs: 10_500),   // 6 s later: a dropout
        ].joined(separator: "\n")
        let (steps, replayer) = Self.replay(text)
        #expect(replayer.format == .serial)
        let results = Self.results(steps)
        #expect(results.map(\.timestampMs) == [4_200, 4_300, 4_500, 10_500])
        #expect(results.map(\.seq) == [0, 1, 3, 4])
        #expect(results[3].kinds.contains(.dropout))
        #expect(replayer.counters.invalid.checksum == 1)
        #expect(replayer.errorCount == 0, "a bad frame in a capture is a rejected line, not a format error")
    }

    @Test func serialCaptureOfBareNumbersIsOnePeriodApart() {
        var volts = Bench.quiet(seconds: 10, seed: 78)
        volts[80] += 1
        let text = volts.map { FixedPoint.format($0, digits: 4) }.joined(separator: "\r\n") + "\r\n"
        let (steps, replayer) = Self.replay(text)
        #expect(replayer.format == .serial)
        let results = Self.results(steps)
        // The first line does not start with `$`: it may be the tail of a line, so it is
        // counted as invalid, as the live reader counts it after opening a port.
        #expect(results.count == 99)
        #expect(replayer.counters.invalid.syntax == 1)
        #expect(zip(results, results.dropFirst()).allSatisfy { $1.timestampMs - $0.timestampMs == 100 })
        #expect(results.allSatisfy { $0.seq == nil })
        #expect(results.map(\.voltage) == volts.dropFirst().map { Double(FixedPoint.format($0, digits: 4))! })
        #expect(results.indices(of: .spike) == [79])
        #expect(results.indices(of: .dropout).isEmpty)
    }

    @Test func serialCaptureCountsOverlongLines() {
        let text = Bench.helloLine + "\n2.5\n" + String(repeating: "1", count: 129) + "\n2.5\n"
        let (steps, replayer) = Self.replay(text)
        #expect(replayer.counters.invalid.tooLong == 1)
        #expect(steps.contains { if case .rejected(let e) = $0 { e.reason == .tooLong } else { false } })
        #expect(Self.results(steps).count == 2)
    }

    // MARK: A file with nothing to score

    @Test func aFileOfRefusedLinesIsNamedAsSuch() {
        let (_, replayer) = Self.replay("\u{00}\u{FF}\u{01} binary\n$VOLT,1,100,512,2.500*00\n")
        #expect(replayer.nothingScoredReason
            == "no line could be scored: 2 invalid lines (checksum 1, syntax 1, too_long 0, out_of_range 0)")
    }

    @Test func oneScoredLineMakesTheRefusedOnesOrdinary() {
        let (_, replayer) = Self.replay("garbage\n2.5\n")
        #expect(replayer.counters.invalid.total == 1)
        #expect(replayer.nothingScoredReason == nil)
    }

    @Test func anEmptyFileIsNamedAsSuch() {
        #expect(Self.replay("\n  \n").replayer.nothingScoredReason == "the file is empty")
    }

    @Test func aRecordingOfEventsOnlyIsNotAnError() {
        let text = "# \(Bench.startMs) \(RecordingEvent.header) device=x\n# \(Bench.startMs + 1) connected /dev/ttyACM0\n"
        let (_, replayer) = Self.replay(text)
        #expect(replayer.format == .recording)
        #expect(replayer.nothingScoredReason == nil)
    }

    // MARK: CSV

    @Test("CSV time columns", arguments: [
        ("timestamp_ms,voltage", "1396310400250", 1_396_310_400_250 as Int64),
        ("timestamp,voltage", "1396310400.25", 1_396_310_400_250),
        ("timestamp,voltage", "1396310400", 1_396_310_400_000),
        ("timestamp,voltage", "1396310400250", 1_396_310_400_250),       // epoch ms in `timestamp`
        // Whole numbers take a path of their own; at its edges it agrees with the decimal one.
        ("timestamp_ms,voltage", "1396310400250.4", 1_396_310_400_250),
        ("timestamp_ms,voltage", "0001396310400250", 1_396_310_400_250),    // 16 digits
        ("timestamp_ms,voltage", "-250", -250),
        ("timestamp,voltage", "99999999999", 99_999_999_999_000),          // below 10^11: seconds
        ("timestamp,voltage", "100000000000", 100_000_000_000),            // from 10^11: milliseconds
        ("timestamp,voltage", "2014-04-01 00:00:00", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01T00:00:00", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01T00:00:00Z", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01 00:00:00.250", 1_396_310_400_250),
        ("timestamp,voltage", "2014-04-01T00:00:00.5Z", 1_396_310_400_500),
        ("timestamp,voltage", "2014-04-01T02:00:00+02:00", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01T02:00:00+0200", 1_396_310_400_000),
        ("timestamp,voltage", "2014-03-31T22:30:00-01:30", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01 00:00", 1_396_310_400_000),
        ("timestamp,voltage", "2014-04-01", 1_396_310_400_000),
        ("timestamp,voltage", "\"2014-04-01 00:00:00\"", 1_396_310_400_000),
        ("timestamp,voltage", "2000-02-29 12:00:00", 951_825_600_000),
        ("timestamp,voltage", "1970-01-01 00:00:00", 0),
        ("Timestamp , Voltage", "2014-04-01 00:00:00", 1_396_310_400_000),
    ])
    func csvTime(header: String, time: String, ms: Int64) {
        let (steps, replayer) = Self.replay("\(header)\n\(time),2.5\n")
        #expect(replayer.format == .csv)
        #expect(Self.errors(steps).isEmpty, "\(Self.errors(steps))")
        #expect(Self.results(steps).map(\.timestampMs) == [ms])
    }

    @Test func csvValueColumnAndColumnOrder() {
        let text = """
            id,value,timestamp,note
            1,2.5,1396310400,a
            2, 2.75 ,1396310400.1,b
            """
        let (steps, replayer) = Self.replay(text)
        #expect(replayer.format == .csv)
        #expect(Self.results(steps).map(\.voltage) == [2.5, 2.75])
        #expect(Self.results(steps).map(\.timestampMs) == [1_396_310_400_000, 1_396_310_400_100])
        #expect(replayer.labels == nil, "no label column, no tally")
    }

    @Test func csvScoresLikeTheScorer() {
        let volts = Bench.quiet(seconds: 60, seed: 79)
        let text = "timestamp_ms,voltage\n" + volts.enumerated().map { i, v in
            "\(Bench.startMs + Int64(i) * 100),\(v)"
        }.joined(separator: "\n")
        let (steps, _) = Self.replay(text)
        #expect(Self.results(steps) == Bench.score(volts))
    }

    @Test func csvLabelsGivePrecisionRecallAndF1() {
        // 120 rows; spikes at rows 40, 60 (labelled 1) and 80 (labelled 0); rows 90 and 100
        // labelled 1 but quiet. By hand: TP 2, FP 1, FN 2, TN 115, so precision 2/3,
        // recall 1/2 and F1 = 2·(2/3)·(1/2) / (2/3 + 1/2) = 4/7.
        var volts = Bench.quiet(seconds: 12, seed: 80)
        for i in [40, 60, 80] { volts[i] += 0.5 }
        let labelled: Set<Int> = [40, 60, 90, 100]
        let text = "timestamp_ms,voltage,label\n" + volts.enumerated().map { i, v in
            "\(Bench.startMs + Int64(i) * 100),\(v),\(labelled.contains(i) ? 1 : 0)"
        }.joined(separator: "\n")
        let (steps, replayer) = Self.replay(text)
        #expect(Self.results(steps).anomalyIndices == [40, 60, 80], "the hand count assumes these anomalies")
        var expected = LabelTally()
        expected.truePositives = 2
        expected.falsePositives = 1
        expected.falseNegatives = 2
        expected.trueNegatives = 115
        #expect(replayer.labels == expected)
        let tally = replayer.labels ?? LabelTally()
        #expect(abs(tally.precision - 2.0 / 3) < 1e-12)
        #expect(tally.recall == 0.5)
        #expect(abs(tally.f1 - 4.0 / 7) < 1e-12)
        var merged = tally
        merged.add(tally)
        #expect(merged.truePositives == 4 && merged.trueNegatives == 230)
        #expect(abs(merged.f1 - 4.0 / 7) < 1e-12, "F1 of a doubled tally is unchanged")
    }

    @Test("label spellings", arguments: [("1", true), ("0", false), ("true", true), ("no", false), ("1.0", true), ("", false), ("YES", true)])
    func labelSpelling(text: String, actual: Bool) {
        let (_, replayer) = Self.replay("timestamp_ms,voltage,label\n1000,2.5,\(text)\n")
        #expect(replayer.errorCount == 0)
        #expect(replayer.labels?.falseNegatives == (actual ? 1 : 0))
        #expect(replayer.labels?.trueNegatives == (actual ? 0 : 1))
    }

    @Test func emptyTallyIsZeroNotNaN() {
        let tally = LabelTally()
        #expect(tally.precision == 0 && tally.recall == 0 && tally.f1 == 0)
    }

    @Test func badCSVLinesAreErrorsWithTheirLineNumberAndTheRestIsScored() {
        let text = [
            "timestamp,voltage,label",              // 1
            "1396310400,2.50,0",                    // 2
            "yesterday,2.51,0",                     // 3: bad timestamp
            "1396310400.2,2.5x,0",                  // 4: bad number
            "1396310400.3",                         // 5: too few columns
            "1396310400.4,2.52,maybe",              // 6: bad label
            "2014-13-01 00:00:00,2.53,0",           // 7: month 13
            "1396310400.5,,0",                      // 8: empty value
            "1396310400.6,nan,0",                   // 9: not a finite number
            "1396310400.7,2.54,1",                  // 10
        ].joined(separator: "\n")
        let (steps, replayer) = Self.replay(text)
        let errors = Self.errors(steps)
        #expect(errors.map(\.line) == [3, 4, 5, 6, 7, 8, 9])
        #expect(replayer.errorCount == 7)
        #expect(errors[0].message.contains("timestamp 'yesterday' is not a time"), "\(errors[0])")
        #expect(errors[1].message.contains("voltage '2.5x' is not a number"), "\(errors[1])")
        #expect(errors[2].message.contains("expected 3 columns, found 1"), "\(errors[2])")
        #expect(errors[3].message.contains("label 'maybe' must be 0 or 1"), "\(errors[3])")
        #expect(Self.results(steps).map(\.voltage) == [2.50, 2.54])
        #expect(replayer.labels?.trueNegatives == 1)
        #expect(replayer.labels?.falseNegatives == 1)
    }

    @Test func csvValuesOfAnyFiniteSizeAreScored() {
        // A CSV's value column is any signal (a taxi count of 20,000, a temperature), not only
        // a frame's volts. Found by the replay fuzzer: a row of 1e20 trapped formatting its
        // reason; FixedPoint now prints such a figure, so the row is scored like any other.
        let text = "timestamp,value\n1,2.5\n2,10001732170217000000\n3,-1000.5\n4,20000\n"
        let (steps, replayer) = Self.replay(text)
        #expect(Self.errors(steps).isEmpty)
        #expect(replayer.errorCount == 0)
        #expect(Self.results(steps).map(\.voltage) == [2.5, 1.0001732170217e19, -1000.5, 20000])
    }

    @Test("a header without the needed columns is an error on line 1", arguments: [
        ("time,voltage", "a time column"), ("timestamp,volts", "a value column"), ("a,b,c", "a time column (timestamp or timestamp_ms) and a value column"),
    ])
    func missingHeaderColumns(header: String, fragment: String) {
        let (steps, replayer) = Self.replay("\(header)\n")
        #expect(replayer.format == .csv)
        let errors = Self.errors(steps)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 1)
        #expect(errors.first?.message.contains(fragment) == true, "\(errors)")
    }

    @Test func isoParserRefusesImpossibleDates() {
        for text in ["2014-04-01X00:00:00", "2014-4-01", "2014-04-01 24:00:00", "2014-04-01 00:60", "2014-04-01 00:00:00+", "2014-04-01 00:00:00.", "2014-04-01 00:00:00 UTC"] {
            #expect(ISO8601.milliseconds(text) == nil, "\(text)")
        }
        #expect(ISO8601.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(ISO8601.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
        #expect(ISO8601.daysFromCivil(year: 2024, month: 3, day: 1) - ISO8601.daysFromCivil(year: 2024, month: 2, day: 28) == 2)
    }
}
