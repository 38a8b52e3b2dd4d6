import Testing
@testable import VoltCore

/// A board that stops talking is a fault while it is silent, not when it comes back: a
/// silence longer than the dropout timeout opens a dropout episode by the reader's clock, the
/// sample that ends it joins that episode, and a replay (which has no clock but the lines')
/// gives the same results and the same episodes.
@Suite("Silences")
struct SilenceTests {
    /// Two minutes of the bench signal, one `$VOLT` line every 100 ms from `Bench.startMs`.
    static let lines: [(line: String, ms: Int64)] = Bench.quiet(seconds: 120, seed: 91).enumerated().map { i, v in
        (Bench.voltLine(seq: UInt32(i), volts: v), Bench.startMs + Int64(i) * Bench.periodMs)
    }

    /// The same lines with the board silent for `seconds` before line `at` (its clock and
    /// `seq` go on, as a loose cable's do).
    static func silent(for seconds: Int64, before at: Int) -> [(line: String, ms: Int64)] {
        lines.enumerated().map { i, entry in i >= at ? (entry.line, entry.ms + seconds * 1_000) : entry }
    }

    /// What a stream publishes for `lines`: every result, and every episode change in the
    /// order a subscriber sees them (silences first, then the line's own). `clockAt`: times at
    /// which the live reader's clock looks for silences between lines.
    static func run(_ lines: [(line: String, ms: Int64)], clockAt: [Int64] = [],
                    config: ModelConfig = .default) -> (results: [ScoredResult], changes: [EpisodeTracker.Change]) {
        var stream = DeviceStream(device: "board", config: config)
        var results: [ScoredResult] = []
        var changes: [EpisodeTracker.Change] = []
        var clock = clockAt.sorted()[...]
        for (line, ms) in lines {
            while let tick = clock.first, tick < ms {
                changes += stream.noteSilence(nowMs: tick).map(\.change)
                clock = clock.dropFirst()
            }
            let output = stream.ingest(line: line, receivedAtMs: ms)
            changes += stream.silences.map(\.change)
            if case .result(let result) = output {
                results.append(result)
                if stream.lastEpisodeChange != .none { changes.append(stream.lastEpisodeChange) }
            }
        }
        return (results, changes)
    }

    @Test func aSilentBoardAlarmsWhileItIsSilentAndTheReturningSampleJoinsThatAlarm() throws {
        let resume = 900
        let silence = Self.silent(for: 30, before: resume)
        let lastMs = silence[resume - 1].ms
        let timeoutMs = Int64(ModelConfig.default.dropoutTimeoutMs)
        // The reader's clock looks every second through the silence.
        let ticks = (1...30).map { lastMs + Int64($0) * 1_000 }
        let live = Self.run(silence, clockAt: ticks)
        guard case .opened(let opened) = live.changes.first else {
            Issue.record("the silence should open an episode first, got \(live.changes.first.map { "\($0)" } ?? "nothing")")
            return
        }
        #expect(opened.kinds == [.dropout] && opened.isOpen && opened.samples == 0)
        #expect(opened.startMs == lastMs + timeoutMs, "it starts when the silence became a dropout")
        #expect(opened.reasons.first?.hasPrefix("dropout:") == true)
        #expect(opened.peakScore == ModelConfig.default.anomalyThreshold)
        // Once per silence: thirty ticks, one episode opened, and nothing else until the line is back.
        #expect(live.changes.filter { if case .opened = $0 { true } else { false } }.count == 1)
        let back = live.results[resume]
        #expect(back.isAnomaly && back.kinds.contains(.dropout))
        #expect(back.episode == opened.id, "the returning sample is the same alarm")
        let closed = live.changes.compactMap { change -> AlarmEpisode? in
            if case .closed(let e) = change { e } else { nil }
        }
        #expect(closed.count == 1 && closed[0].id == opened.id && closed[0].endMs == silence[resume].ms,
                "the first normal result after it ends it: \(closed)")
        #expect(live.results[..<resume].allSatisfy { !$0.isAnomaly })
    }

    @Test("live and replay agree whether or not the clock got there before the line", arguments: [
        [], [1], [999, 1_500], [30_000],
    ] as [[Int64]])
    func theClockNeverChangesWhatIsPublished(offsetsAfterTimeout: [Int64]) {
        // A replay has no clock between lines; live, the reader's clock may announce the silence
        // any time before the line that ends it (or not at all, for a silence shorter than its
        // tick). The results and episodes must not depend on it.
        let resume = 900
        for seconds: Int64 in [2, 31] {
            let silence = Self.silent(for: seconds, before: resume)
            let dropoutAt = silence[resume - 1].ms + Int64(ModelConfig.default.dropoutTimeoutMs)
            let ticks = offsetsAfterTimeout.map { dropoutAt + $0 }.filter { $0 < silence[resume].ms }
            let replay = Self.run(silence)
            let live = Self.run(silence, clockAt: ticks)
            #expect(live.results == replay.results, "\(seconds) s of silence, clock at \(ticks)")
            #expect(live.changes == replay.changes, "\(seconds) s of silence, clock at \(ticks)")
            #expect(replay.results[resume].episode != nil)
        }
    }

    @Test func aClockThatLooksBeforeTheTimeoutOpensNothing() {
        var stream = DeviceStream(device: "board", config: .default)
        #expect(stream.noteSilence(nowMs: Bench.startMs + 60_000).isEmpty, "nothing is silent before its first sample")
        for (line, ms) in Self.lines.prefix(100) { _ = stream.ingest(line: line, receivedAtMs: ms) }
        let last = Self.lines[99].ms
        let timeout = Int64(ModelConfig.default.dropoutTimeoutMs)
        #expect(stream.noteSilence(nowMs: last + timeout).isEmpty, "exactly the timeout is not yet a dropout")
        #expect(stream.noteSilence(nowMs: last + timeout + 1).count == 1)
        #expect(stream.noteSilence(nowMs: last + 10 * timeout).isEmpty, "once per silence")
    }

    @Test func withTheDropoutDetectorOffASilenceOpensNothing() throws {
        let config = try ModelConfig.parse(json: """
            {"anomaly_threshold": 0.7, "window_size": 50, "sample_rate": 10, "disabled_detectors": ["dropout"]}
            """)
        let run = Self.run(Self.silent(for: 30, before: 900), clockAt: [Self.lines[899].ms + 5_000], config: config)
        #expect(!run.changes.contains { $0.episode?.kinds.contains(.dropout) == true })
    }

    @Test func aRebootEndsTheSilencesAlarm() {
        var stream = DeviceStream(device: "board", config: .default)
        for (line, ms) in Self.lines.prefix(900) { _ = stream.ingest(line: line, receivedAtMs: ms) }
        let opened = stream.noteSilence(nowMs: Self.lines[899].ms + 5_000)
        #expect(opened.count == 1)
        let hello = Self.lines[899].ms + 6_000
        _ = stream.ingest(line: Bench.helloLine, receivedAtMs: hello)
        #expect(stream.endedEpisodes.map(\.change) == [.closed(opened[0].change.episode!.ended())])
        #expect(stream.episodes.current == nil)
        // The board samples again within the timeout of its `$HELLO`: nothing more is said.
        #expect(stream.noteSilence(nowMs: hello + 1_000).isEmpty)
        for (i, entry) in Self.lines[900..<950].enumerated() {
            _ = stream.ingest(line: entry.line, receivedAtMs: hello + 100 + Int64(i) * 100)
        }
        #expect(stream.episodes.current == nil, "the line is back and quiet")
        #expect(stream.noteSilence(nowMs: hello + 50 * 100 + 1_001).count == 1, "its next silence alarms again")
    }

    @Test func aBoardThatRestartsAndNeverSamplesAgainAlarmsAfterTheTimeout() throws {
        // A reboot that hangs in the sensor's setup: the `$HELLO` comes, no sample after it.
        var stream = DeviceStream(device: "board", config: .default)
        for (line, ms) in Self.lines.prefix(600) { _ = stream.ingest(line: line, receivedAtMs: ms) }
        let hello = Self.lines[599].ms + 300
        _ = stream.ingest(line: Bench.helloLine, receivedAtMs: hello)
        #expect(stream.noteSilence(nowMs: hello + 1_000).isEmpty, "not before the timeout")
        let opened = stream.noteSilence(nowMs: hello + 1_001)
        let episode = try #require(opened.first?.change.episode)
        #expect(opened.map(\.stream) == ["board"] && episode.kinds == [.dropout] && episode.startMs == hello + 1_000)
        #expect(episode.reasons.first?.contains("since the board restarted") == true, "\(episode.reasons)")
        #expect(stream.noteSilence(nowMs: hello + 60_000).isEmpty, "said once")
    }

    @Test func aBoardThatRestartsWithChannelsIsExpectedOnThoseChannels() throws {
        // Two channels for a while, then a `$HELLO` naming A1 alone (a `$SET`), then silence:
        // A1 is expected and alarms, A0 is no longer sampled and does not.
        var stream = DeviceStream(device: "board", config: .default)
        var ms = Bench.startMs
        for seq in 0..<600 as Range<UInt32> {
            _ = stream.ingest(line: ChannelTests.volts(seq, [("A0", 512, 2.5), ("A1", 675, 3.3)]), receivedAtMs: ms)
            ms += 100
        }
        _ = stream.ingest(line: FrameParser.sentence("HELLO,voltage_monitor,1.1.0,uno,5000,10,100,A1"), receivedAtMs: ms)
        #expect(stream.noteSilence(nowMs: ms + 5_000).map(\.stream) == ["board/A1"])
    }

    @Test func aBoardSwitchedToChannelsThatHangsBeforeItsFirstFrameAlarmsOnThem() throws {
        // `$VOLT` for a while, then `$SET` two channels: the board answers with a `$HELLO`
        // naming A0+A1 and hangs before its first `$VOLTS` frame. The channels it named never
        // sent; they are silent, and the single signal it no longer sends is not.
        var stream = DeviceStream(device: "board", config: .default)
        for (line, ms) in Self.lines.prefix(600) { _ = stream.ingest(line: line, receivedAtMs: ms) }
        let hello = Self.lines[599].ms + 100
        _ = stream.ingest(line: FrameParser.sentence("HELLO,voltage_monitor,1.1.0,uno,5000,10,100,A0+A1"), receivedAtMs: hello)
        #expect(stream.noteSilence(nowMs: hello + 1_000).isEmpty, "not before the timeout")
        let opened = stream.noteSilence(nowMs: hello + 1_001)
        #expect(opened.map(\.stream) == ["board/A0", "board/A1"])
        #expect(stream.activeSignals.map(\.id) == ["board"], "no channel has scored a sample")
    }

    @Test func aBoardThatNowSendsChannelsDoesNotLeaveItsSingleSignalAlarming() {
        // `$VOLT` for a while, then `$SET` two channels: a `$HELLO`, then `$VOLTS` frames only.
        var stream = DeviceStream(device: "board", config: .default)
        for (line, ms) in Self.lines.prefix(600) { _ = stream.ingest(line: line, receivedAtMs: ms) }
        var ms = Self.lines[599].ms + 100
        _ = stream.ingest(line: FrameParser.sentence("HELLO,voltage_monitor,1.1.0,uno,5000,10,100,A0+A1"), receivedAtMs: ms)
        var opened: [String] = []
        for seq in 0..<600 as Range<UInt32> {
            ms += 100
            _ = stream.ingest(line: ChannelTests.volts(seq, [("A0", 512, 2.5), ("A1", 675, 3.3)]), receivedAtMs: ms)
            opened += stream.silences.map(\.stream)
            if seq % 10 == 0 { opened += stream.noteSilence(nowMs: ms + 50).map(\.stream) }
        }
        #expect(opened.isEmpty, "\(opened)")
    }

    @Test func eachSilentChannelAlarmsOnItsOwn() {
        var stream = DeviceStream(device: "board", config: .default)
        var ms = Bench.startMs
        for seq in 0..<900 as Range<UInt32> {
            _ = stream.ingest(line: ChannelTests.volts(seq, [("A0", 512, 2.5), ("A1", 675, 3.3)]), receivedAtMs: ms)
            ms += 100
        }
        let opened = stream.noteSilence(nowMs: ms + 5_000)
        #expect(opened.map(\.stream) == ["board/A0", "board/A1"])
        #expect(opened.allSatisfy { if case .opened(let e) = $0.change { e.kinds == [.dropout] } else { false } })
    }

    @Test func aSilenceDuringAnAlarmJoinsIt() {
        var tracker = EpisodeTracker()
        var spike = EpisodeTrackerTests.result(100, score: 0.9, kinds: [.spike], reasons: ["spike: a"])
        _ = tracker.observe(&spike)
        let change = tracker.openSilence(atMs: 1_200, score: 0.7, reason: "dropout: b")
        guard case .extended(let episode) = change else {
            Issue.record("expected the spike's episode to take the dropout, got \(change)")
            return
        }
        #expect(episode.id == 1 && episode.kinds == [.spike, .dropout] && episode.reasons == ["spike: a", "dropout: b"])
        #expect(tracker.openSilence(atMs: 5_000, score: 0.7, reason: "dropout: c") == .none, "already said")
    }
}
