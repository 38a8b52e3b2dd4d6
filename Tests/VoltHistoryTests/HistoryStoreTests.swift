#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Testing
import VoltCore
@testable import VoltHistory

/// History on a real SQLite file: what goes in comes back out after the file is closed and
/// opened again, merged exactly, and a store that cannot be written is reported and retried.
@Suite("History store")
struct HistoryStoreTests {
    static func temporaryPath(_ name: String) -> String {
        var template = Array("/tmp/voltwatch-history-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        return dir + "/" + name
    }

    static let t0: Int64 = 1_764_900_000_000 // a whole minute

    static func result(_ value: Double, at ms: Int64, anomaly: Bool = false, episode: UInt64? = nil) -> ScoredResult {
        var r = ScoredResult(anomalyScore: anomaly ? 0.9 : 0.1, isAnomaly: anomaly, confidence: 1, timestampMs: ms,
                             voltage: value, seq: nil, severity: anomaly ? .critical : .normal, kinds: anomaly ? [.spike] : [],
                             reasons: anomaly ? ["spike"] : [])
        r.episode = episode
        return r
    }

    @Test func aggregatesSurviveClosingTheFileAndMergeAcrossFlushes() throws {
        let path = Self.temporaryPath("history.sqlite")
        do {
            let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
            // Two flushes inside one second: the second's row merges both.
            for i in 0..<5 { recorder.publish(.result(device: "b", Self.result(2.0 + Double(i) * 0.1, at: Self.t0 + Int64(i) * 100))) }
            recorder.flush()
            for i in 5..<10 { recorder.publish(.result(device: "b", Self.result(2.0 + Double(i) * 0.1, at: Self.t0 + Int64(i) * 100))) }
            recorder.publish(.result(device: "b", Self.result(9.0, at: Self.t0 + 61_000)))
            recorder.flush()
            #expect(recorder.health.snapshot.writes == 2)
        }
        let store = try HistoryStore(path: path, readOnly: true)
        let seconds = try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 120_000, stepSeconds: 1)
        #expect(seconds.count == 2)
        let first = try #require(seconds.first).aggregate
        #expect(first.count == 10 && first.min == 2.0 && abs(first.max - 2.9) < 1e-12 && abs(first.mean - 2.45) < 1e-12)
        let minutes = try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 120_000, stepSeconds: 60)
        #expect(minutes.map(\.aggregate.count) == [10, 1])
        #expect(minutes.map(\.startMs) == [Self.t0, Self.t0 + 60_000])
        #expect(try store.streams().map(\.stream) == ["b"])
    }

    @Test func rowsAsStoredAndCoarserStepsAgree() throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        // Three minutes at 10 Hz, values rising: every bucket differs.
        for i in 0..<1_800 { recorder.publish(.result(device: "b", Self.result(Double(i) / 100, at: Self.t0 + Int64(i) * 100))) }
        recorder.publish(.result(device: "other", Self.result(99, at: Self.t0)))
        recorder.flush()
        let store = try HistoryStore(path: path)
        func points(_ step: Int64) throws -> [HistoryPoint] {
            try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 180_000, stepSeconds: step)
        }
        let seconds = try points(1), minutes = try points(60)
        #expect(seconds.count == 180 && seconds.allSatisfy { $0.aggregate.count == 10 })
        #expect(minutes.map(\.startMs) == [Self.t0, Self.t0 + 60_000, Self.t0 + 120_000])
        // A coarser step groups the same rows: 2 s from seconds, 2 min from minutes.
        let pairs = try points(2)
        #expect(pairs.count == 90 && pairs[0].aggregate == Aggregate(min: 0, max: 0.19, sum: seconds[0].aggregate.sum + seconds[1].aggregate.sum,
                                                                     count: 20, anomalies: 0))
        let twoMinutes = try points(120)
        #expect(twoMinutes.map(\.aggregate.count) == [1_200, 600])
        #expect(twoMinutes[0].aggregate.max == minutes[1].aggregate.max && twoMinutes[0].aggregate.min == 0)
        #expect(minutes.map(\.aggregate.count) == [600, 600, 600])
    }

    @Test func episodesAreStoredWithTheirPeakAndTheSignalAroundThem() throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        var tracker = EpisodeTracker()
        for i in 0..<900 {
            let ms = Self.t0 + Int64(i) * 100
            var r = Self.result(i == 400 || i == 401 ? 4.5 : 2.5, at: ms, anomaly: i == 400 || i == 401)
            let change = tracker.observe(&r)
            recorder.publish(.result(device: "b", r))
            if change != .none { recorder.publish(.episode(device: "b", change)) }
        }
        recorder.flush(final: true)
        let store = try HistoryStore(path: path)
        let episodes = try store.episodes(stream: "b", sinceMs: nil, untilMs: nil, limit: 10)
        #expect(episodes.count == 1)
        let stored = try #require(episodes.first)
        #expect(stored.episode.id == 1 && !stored.episode.isOpen && stored.episode.samples == 2)
        #expect(stored.peakValue == 4.5 && stored.peakSeverity == .critical)
        let context = try store.context(stream: "b", episode: 1)
        // 30 s before (300 samples) to 30 s after the end.
        #expect(context.first.map { Self.t0 + 400 * 100 - $0.atMs } == 30_000)
        #expect(context.last.map { $0.atMs - (Self.t0 + 401 * 100) } ?? 0 >= 29_900)
        #expect(try store.nextEpisodeIDs() == ["b": 2])
    }

    /// Frames read in one burst share a receive millisecond; the stored context keeps one point
    /// per millisecond, and it must be the alarm's, not the ordinary sample read just before it.
    @Test func anAlarmSharingItsMillisecondWithAnOrdinarySampleKeepsItsPoint() throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        var tracker = EpisodeTracker()
        for i in 0..<100 {
            // Pairs of samples per millisecond; the onset (i == 51) shares its millisecond with i == 50.
            let ms = Self.t0 + Int64(i / 2) * 20
            var r = Self.result(i == 51 ? 4.5 : 2.5, at: ms, anomaly: i == 51)
            let change = tracker.observe(&r)
            recorder.publish(.result(device: "b", r))
            if change != .none { recorder.publish(.episode(device: "b", change)) }
        }
        recorder.flush(final: true)
        let store = try HistoryStore(path: path)
        let context = try store.context(stream: "b", episode: 1)
        let onset = try #require(context.first { $0.atMs == Self.t0 + 25 * 20 })
        #expect(onset.anomaly && onset.value == 4.5 && onset.score == 0.9)
        #expect(context.filter(\.anomaly).count == 1)
        #expect(Set(context.map(\.atMs)).count == context.count, "one point per millisecond")
    }

    @Test func aReloadEndsOpenEpisodesInTheStoreToo() throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        var tracker = EpisodeTracker()
        var r = Self.result(4.5, at: Self.t0, anomaly: true)
        recorder.publish(.episode(device: "b", tracker.observe(&r)))
        recorder.publish(.result(device: "b", r))
        recorder.flush()
        #expect(try HistoryStore(path: path).episodes(stream: "b", sinceMs: nil, untilMs: nil, limit: 1).first?.episode.isOpen == true)
        recorder.publish(.configReloaded(.default, source: "test"))
        recorder.flush()
        #expect(try HistoryStore(path: path).episodes(stream: "b", sinceMs: nil, untilMs: nil, limit: 1).first?.episode.isOpen == false)
    }

    @Test func aDamagedStoreIsReportedKeptInMemoryAndRecoversWhenMovedAside() throws {
        let path = Self.temporaryPath("history.sqlite")
        do {
            let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
            recorder.publish(.result(device: "b", Self.result(1.0, at: Self.t0)))
            recorder.flush(final: true)
        }
        // Damage the closed file: bytes overwritten from the start.
        let fd = open(path, O_WRONLY)
        let junk = [UInt8](repeating: 0x5A, count: 8192)
        _ = junk.withUnsafeBytes { pwrite(fd, $0.baseAddress, 8192, 0) }
        close(fd)
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        #expect(recorder.health.snapshot.state == .failing, "opening a damaged store is reported, not fatal")
        recorder.publish(.result(device: "b", Self.result(2.0, at: Self.t0 + 1_000)))
        recorder.flush()
        let failing = recorder.health.snapshot
        #expect(failing.state == .failing)
        #expect(failing.error?.contains("damaged") == true, "\(failing.error ?? "")")
        #expect(failing.pendingRows > 0)
        // The person moves the file aside; the next flush starts a new store with what was kept.
        rename(path, path + ".damaged")
        recorder.flush()
        #expect(recorder.health.snapshot.state == .ok)
        let points = try HistoryStore(path: path).history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 10_000, stepSeconds: 1)
        #expect(points.map(\.aggregate.mean) == [2.0])
    }

    @Test func aStoppedRecorderLeavesOneCompleteFile() async throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        let running = Task { try await recorder.run() }
        for i in 0..<5 { recorder.publish(.result(device: "b", Self.result(2.0, at: Self.t0 + Int64(i) * 100))) }
        recorder.flush()
        // A reader connection too, as the API opens one.
        #expect(try recorder.currentStore().history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 1_000, stepSeconds: 1).count == 1)
        for i in 5..<10 { recorder.publish(.result(device: "b", Self.result(2.0, at: Self.t0 + Int64(i) * 100))) }
        running.cancel()
        try await running.value
        // The last flush is merged into the file: no WAL keeps the newest rows, so a copy of
        // history.sqlite alone (a backup, a file taken to `serve --db`) has everything.
        var wal = stat()
        #expect(stat(path + "-wal", &wal) != 0 || wal.st_size == 0)
        let copy = Self.temporaryPath("copy.sqlite")
        try Self.copyFile(path, to: copy)
        let store = try HistoryStore(path: copy, readOnly: true)
        #expect(try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 1_000, stepSeconds: 1).map(\.aggregate.count) == [10])
    }

    static func copyFile(_ from: String, to: String) throws {
        let input = open(from, O_RDONLY), output = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(input); close(output) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, 65_536) }
            if n <= 0 { break }
            _ = buffer.withUnsafeBytes { write(output, $0.baseAddress, n) }
        }
    }

    @Test func pruningKeepsMinutesLongerThanSeconds() throws {
        let path = Self.temporaryPath("history.sqlite")
        let recorder = HistoryRecorder(options: .init(path: path), logger: Logger(label: "test"))
        recorder.publish(.result(device: "b", Self.result(1.0, at: Self.t0)))
        recorder.publish(.result(device: "b", Self.result(1.0, at: Self.t0 + 3_600_000)))
        recorder.flush()
        let store = try HistoryStore(path: path)
        try store.prune(secondsBeforeMs: Self.t0 + 60_000, minutesBeforeMs: Self.t0)
        #expect(try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 7_200_000, stepSeconds: 1).count == 1)
        #expect(try store.history(stream: "b", fromMs: Self.t0, toMs: Self.t0 + 7_200_000, stepSeconds: 60).count == 2)
    }
}
