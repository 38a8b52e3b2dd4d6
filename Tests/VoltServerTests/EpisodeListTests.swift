import Testing
import VoltCore
@testable import VoltServer

/// `/api/anomalies` lists alarm episodes: one entry per alarm however long it lasts, the open
/// one first, with the reading at its peak.
@Suite struct EpisodeListTests {
    static func result(_ ms: Int64, volts: Double, score: Double, kinds: AnomalyKinds = [.dip]) -> ScoredResult {
        let anomaly = score >= 0.7
        return ScoredResult(anomalyScore: score, isAnomaly: anomaly, confidence: 1, timestampMs: ms, voltage: volts,
                            seq: UInt32(ms / 100), severity: anomaly ? .warning : .normal,
                            kinds: anomaly ? kinds : [], reasons: anomaly ? ["dip: test"] : [])
    }

    /// Feeds results through a tracker into the list, as the reader and the hub do.
    static func feed(_ results: [ScoredResult], device: String = "uno", into list: inout EpisodeList,
                     tracker: inout EpisodeTracker) {
        for var result in results {
            let change = tracker.observe(&result)
            list.note(result, device: device)
            list.apply(change, device: device)
        }
    }

    @Test func anHourLongAlarmIsOneEntryWithItsPeakReading() throws {
        var list = EpisodeList(capacity: 10)
        var tracker = EpisodeTracker()
        let alarm = (0..<36_000).map { Self.result(Int64($0) * 100, volts: $0 == 500 ? 3.1 : 3.3, score: $0 == 500 ? 0.95 : 0.71) }
        Self.feed(alarm, into: &list, tracker: &tracker)
        var entries = list.newestFirst(limit: 10)
        #expect(entries.count == 1)
        var entry = try #require(entries.first)
        #expect(entry.episode.isOpen && entry.episode.samples == 36_000)
        #expect(entry.peakVoltage == 3.1 && entry.episode.peakScore == 0.95)

        Self.feed([Self.result(3_600_000, volts: 3.3, score: 0.1)], into: &list, tracker: &tracker)
        entries = list.newestFirst(limit: 10)
        entry = try #require(entries.first)
        #expect(entries.count == 1 && !entry.episode.isOpen && entry.episode.endMs == 3_599_900)
    }

    @Test func theOpenEpisodeComesFirstThenTheEndedNewestFirst() {
        var list = EpisodeList(capacity: 2)
        var tracker = EpisodeTracker()
        for start in [0, 1_000, 2_000, 3_000] as [Int64] {
            Self.feed([Self.result(start, volts: 3, score: 0.9), Self.result(start + 100, volts: 3.3, score: 0.1)],
                      into: &list, tracker: &tracker)
        }
        Self.feed([Self.result(4_000, volts: 3, score: 0.9)], into: &list, tracker: &tracker)
        // The capacity bounds the ended ones: 4 ended, 2 kept, plus the open one.
        #expect(list.newestFirst(limit: 10).map(\.episode.id) == [5, 4, 3])
        #expect(list.newestFirst(limit: 10).map(\.episode.isOpen) == [true, false, false])
        #expect(list.newestFirst(limit: 2).count == 2)
    }

    @Test func aReloadEndsWhatWasOpen() {
        var list = EpisodeList(capacity: 5)
        var tracker = EpisodeTracker()
        Self.feed([Self.result(0, volts: 3, score: 0.9)], into: &list, tracker: &tracker)
        list.closeAll()
        #expect(list.newestFirst(limit: 5).map(\.episode.isOpen) == [false])
    }
}
