import Testing
@testable import VoltCore

/// A capture can start anywhere: `cat /dev/ttyACM0 > day.log` while the board is sending begins
/// with the tail of a frame, sometimes after line noise. Replay looks past such lines before it
/// decides a file's format, and counts them as invalid, as the live reader counts the partial
/// first line after it opens a port. One bad first line never costs the whole file.
@Suite("Trace format detection")
struct TraceFormatDetectionTests {
    /// Twenty good frames, seq 8 to 27, 100 ms apart.
    static let frames: [String] = (0..<20).map { (i: Int) -> String in
        Bench.voltLine(seq: UInt32(8 + i), volts: 2.5, uptimeMs: UInt32(4_300 + 100 * i))
    }
    static let frame7 = Bench.voltLine(seq: 7, volts: 2.502, uptimeMs: 4_200)

    static func replay(_ lines: [String]) -> (steps: [TraceReplayer.Step], replayer: TraceReplayer) {
        TraceReplayerTests.replay(lines.joined(separator: "\n") + "\n")
    }

    @Test func aCaptureThatStartsMidFrameIsScoredAndItsTailCounted() {
        // The issue's file: the tail of `$VOLT,7,4200,512,2.502*..` holds commas, and was taken
        // for a CSV header, which refused every frame after it.
        let (steps, replayer) = Self.replay(["7,4200,512,2.502*5C"] + Self.frames)
        #expect(replayer.format == .serial)
        #expect(replayer.errorCount == 0)
        #expect(TraceReplayerTests.results(steps).map(\.seq) == Array(8..<28))
        #expect(replayer.counters.invalid.syntax == 1)
        #expect(replayer.counters.invalid.total == 1)
        #expect(replayer.nothingScoredReason == nil)
        #expect(TraceReplayerTests.results(steps).allSatisfy { !$0.kinds.contains(.lostFrames) })
    }

    @Test("wherever in its first frame a capture starts", arguments: 0..<TraceFormatDetectionTests.frame7.utf8.count)
    func everyCutOfTheFirstFrame(cut: Int) {
        let tail = String(decoding: Array(Self.frame7.utf8.dropFirst(cut)), as: UTF8.self)
        let (steps, replayer) = Self.replay([tail] + Self.frames)
        #expect(replayer.format == .serial, "first line '\(tail)'")
        #expect(replayer.errorCount == 0)
        let results = TraceReplayerTests.results(steps)
        if cut == 0 {
            #expect(results.map(\.seq) == Array(7..<28), "a whole first frame is kept")
            #expect(replayer.counters.invalid.total == 0)
        } else {
            #expect(results.map(\.seq) == Array(8..<28), "first line '\(tail)'")
            #expect(replayer.counters.invalid.syntax == 1, "first line '\(tail)'")
            #expect(replayer.counters.invalid.total == 1, "first line '\(tail)'")
        }
    }

    @Test func aTailThatReadsAsANumberIsStillNotASample() {
        // The last two bytes of a frame are its checksum; `42` alone parses as 42 volts. Live
        // drops any first line that does not start with `$`, so replay does too.
        let (steps, replayer) = Self.replay(["42"] + Self.frames)
        #expect(TraceReplayerTests.results(steps).map(\.seq) == Array(8..<28))
        #expect(TraceReplayerTests.results(steps).allSatisfy { $0.voltage == 2.5 })
        #expect(replayer.counters.invalid.syntax == 1)
    }

    @Test func lineNoiseBeforeTheTailIsLookedPastToo() {
        let noise = String(decoding: [0x00, 0xFF, 0x2C, 0x7F, 0x80, 0x2C, 0x41], as: UTF8.self)
        let (steps, replayer) = Self.replay([noise, "", "LT,7,4200,512,2.502*5C", "*5C"] + Self.frames)
        #expect(replayer.format == .serial)
        #expect(replayer.errorCount == 0)
        #expect(TraceReplayerTests.results(steps).count == 20)
        #expect(replayer.counters.invalid.syntax == 3)
    }

    @Test func aCSVAfterAGarbageLineIsStillACSV() {
        let (steps, replayer) = Self.replay(["\u{1}\u{2}@@", "timestamp_ms,voltage", "1000,2.5", "1100,2.5"])
        #expect(replayer.format == .csv)
        #expect(replayer.errorCount == 0)
        #expect(TraceReplayerTests.results(steps).map(\.timestampMs) == [1_000, 1_100])
        #expect(replayer.counters.invalid.total == 1, "the garbage line is counted, not an error")
    }

    @Test func aRecordingAfterAGarbageLineIsStillARecording() {
        let (steps, replayer) = Self.replay(["ends mid-line", "# 1000 connected /dev/ttyACM0", "1100\t\(Self.frames[0])"])
        #expect(replayer.format == .recording)
        #expect(replayer.errorCount == 0)
        #expect(TraceReplayerTests.results(steps).map(\.timestampMs) == [1_100])
    }

    @Test func theLookaheadIsBounded() {
        // Past `lookaheadLines` lines that fit nothing, the file is a capture for good: a `#`
        // line or a CSV header deep inside it is only another refused line.
        let noise = Array(repeating: "~~", count: TraceFormat.lookaheadLines)
        let (steps, replayer) = Self.replay(noise + ["# 1000 connected", "timestamp,voltage"] + Self.frames)
        #expect(replayer.format == .serial)
        #expect(replayer.errorCount == 0)
        #expect(TraceReplayerTests.results(steps).count == 20)
        #expect(replayer.counters.invalid.syntax == TraceFormat.lookaheadLines + 2)
    }

    @Test func aFileOfGarbageOnlyIsAFileWithNothingToScore() {
        let (_, replayer) = Self.replay(["~~", "\u{7F}\u{7F}", "ab"])
        #expect(replayer.format == .serial, "a file of lines that fit nothing is read as a capture")
        #expect(replayer.nothingScoredReason == "no line could be scored: 3 invalid lines (checksum 0, syntax 3, too_long 0, out_of_range 0)")
    }

    @Test func aCSVWithoutItsHeaderIsToldWhatIsMissing() {
        let (_, replayer) = Self.replay(["1000,2.5", "1100,2.5"])
        let reason = replayer.nothingScoredReason ?? ""
        #expect(reason.hasPrefix("no line could be scored: 2 invalid lines"), "\(reason)")
        #expect(reason.contains("if this is a CSV, its first line must be a header naming a time column"), "\(reason)")
    }

    // MARK: One line at a time

    @Test("what one line says about the format", arguments: [
        ("7,4200,512,2.502*5C", nil as TraceFormat?),
        ("LT,7,4200,512,2.502*5C", nil),
        ("ELLO,voltage_monitor,1.0.0,uno,5000,10,100*4A", nil),
        ("*5C", nil),
        ("1000,2.5", nil),
        ("\u{0}\u{FF}", nil),
        ("garbage", nil),
        ("ab,\u{1}", nil),
        ("42", .serial),
        ("$VOLT,1,2,3,4*00", .serial),
        ("$garbage", .serial),
        ("timestamp,voltage", .csv),
        ("timestamp_ms,voltage,1st_difference,2", .csv),
        ("time,voltage", .csv),
        ("\"a\", b ,_c,", .csv),
        ("# 1 connected", .recording),
        ("1000\tgarbage", .recording),
    ])
    func classify(line: String, format: TraceFormat?) {
        #expect(TraceFormat.classify(line: line) == format)
    }

    @Test func detectingFromTheFirstLinesOfAFile() {
        #expect(TraceFormat.detect(lines: ["7,4200,512,2.502*5C", Self.frames[0]]) == .serial)
        #expect(TraceFormat.detect(lines: ["~~", "", "timestamp,voltage"]) == .csv)
        #expect(TraceFormat.detect(lines: ["~~", "# 1 voltwatch recording device=x"]) == .recording)
        #expect(TraceFormat.detect(lines: Array(repeating: "~~", count: 8) + ["timestamp,voltage"]) == .serial)
        #expect(TraceFormat.detect(lines: ["~~"]) == .serial)
        #expect(TraceFormat.detect(lines: ["", "  "]) == nil)
        #expect(TraceFormat.detect(lines: [String]()) == nil)
    }
}
