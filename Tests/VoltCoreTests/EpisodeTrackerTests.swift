import Testing
@testable import VoltCore

/// Consecutive anomalous results of a device form one alarm episode.
@Suite("Episodes")
struct EpisodeTrackerTests {
    static func result(_ ms: Int64, score: Double, kinds: AnomalyKinds = [], reasons: [String] = []) -> ScoredResult {
        ScoredResult(
            anomalyScore: score, isAnomaly: score >= 0.7, confidence: 1, timestampMs: ms, voltage: 2.5, seq: nil,
            severity: score >= 0.7 ? .warning : .normal, kinds: kinds, reasons: reasons)
    }

    @Test func consecutiveAnomaliesFormOneEpisodeThatANormalResultCloses() {
        var tracker = EpisodeTracker()
        var results = [
            Self.result(0, score: 0.1),
            Self.result(100, score: 0.8, kinds: [.spike], reasons: ["spike: a"]),
            Self.result(200, score: 0.95, kinds: [.spike, .noise], reasons: ["spike: b", "noise: c"]),
            Self.result(300, score: 0.75, kinds: [.noise], reasons: ["noise: d"]),
            Self.result(400, score: 0.2),
            Self.result(500, score: 0.9, kinds: [.dropout], reasons: ["dropout: e"]),
        ]
        let changes = results.indices.map { tracker.observe(&results[$0]) }
        #expect(changes[0] == .none)
        #expect(results.map(\.episode) == [nil, 1, 1, 1, nil, 2])
        guard case .closed(let first) = changes[4] else {
            Issue.record("the normal result should close episode 1, got \(changes[4])")
            return
        }
        #expect(first.id == 1 && first.startMs == 100 && first.endMs == 300 && first.samples == 3)
        #expect(first.peakScore == 0.95)
        #expect(first.kinds == [.spike, .noise])
        #expect(first.reasons == ["spike: a", "noise: c"], "the first reason of each kind")
        #expect(!first.isOpen)
        guard case .opened(let second) = changes[5] else {
            Issue.record("expected episode 2 to open, got \(changes[5])")
            return
        }
        #expect(second.id == 2 && second.isOpen && tracker.current == second)
    }

    @Test func aDeviceStreamNumbersItsResultsEpisodesAndClosesThemOnHello() {
        var stream = DeviceStream(device: "d", config: .default)
        var volts = Bench.quiet(seconds: 120, seed: 3)
        volts[800] += 0.5
        volts[1_000] -= 0.5
        var episodes: [UInt64: AlarmEpisode] = [:]
        for sample in Bench.samples(volts) {
            let r = stream.ingest(sample: sample)
            if let e = stream.lastEpisodeChange.episode { episodes[e.id] = e }
            #expect(r.isAnomaly == (r.episode != nil))
        }
        #expect(episodes.count == 2, "\(episodes.values.map(\.reasons))")
        #expect(episodes[1]?.kinds.contains(.spike) == true)
        #expect(episodes[2]?.kinds.contains(.dip) == true)
        #expect(episodes.values.allSatisfy { !$0.isOpen })
        let hello = Bench.helloLine
        _ = stream.ingest(line: hello, receivedAtMs: 0)
        #expect(stream.lastEpisodeChange == .none, "nothing open to close")
    }

    @Test func aReplacedStreamCanContinueTheNumbering() {
        var tracker = EpisodeTracker(firstID: 41)
        var r = Self.result(0, score: 0.9, kinds: [.spike], reasons: ["spike: x"])
        _ = tracker.observe(&r)
        #expect(r.episode == 41)
        #expect(tracker.upcomingID == 42)
        let stream = DeviceStream(device: "d", config: .default, firstEpisodeID: tracker.upcomingID)
        #expect(stream.episodes.upcomingID == 42)
    }

    @Test func theEncodedResultNamesItsEpisode() {
        var r = Self.result(5, score: 0.9, kinds: [.spike], reasons: ["spike: x"])
        r.episode = 7
        #expect(ResultEncoder.json(r, device: "d").hasSuffix(#""reasons":["spike: x"],"episode":7}"#))
    }
}
