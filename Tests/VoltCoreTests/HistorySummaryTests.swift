import Testing
@testable import VoltCore

/// A summary in words says what a person would: the alarms by kind with their times, and
/// whether the level held or drifted.
@Suite("History summary")
struct HistorySummaryTests {
    static let t0: Int64 = 1_764_892_800_000 // 00:00 UTC

    static func minutes(_ values: [Double]) -> [HistoryPoint] {
        values.enumerated().map { i, v in
            HistoryPoint(startMs: t0 + Int64(i) * 60_000, aggregate: Aggregate(min: v - 0.01, max: v + 0.01, sum: v * 600, count: 600, anomalies: 0))
        }
    }

    static func dip(_ id: UInt64, at minute: Int64, low: Double) -> StoredEpisode {
        StoredEpisode(stream: "b/A1", episode: AlarmEpisode(id: id, startMs: t0 + minute * 60_000, endMs: t0 + minute * 60_000 + 4_000,
                                                            peakScore: 0.99, kinds: [.dip], reasons: ["dip"], samples: 40, isOpen: false),
                      peakValue: low, peakSeverity: .critical)
    }

    @Test func dipsAreCountedWithTheirTimesAndLowestValue() {
        let info = StreamInfo(stream: "b/A1", name: "House battery", unit: "V", firstMs: Self.t0, lastMs: Self.t0 + 7_200_000)
        let summary = HistorySummary.summarize(
            info: info, points: Self.minutes(Array(repeating: 12.6, count: 120)),
            episodes: [Self.dip(1, at: 130, low: 11.7), Self.dip(2, at: 160, low: 11.62), Self.dip(3, at: 150, low: 11.9)],
            windowMs: 86_400_000, utcOffsetSeconds: 0)
        #expect(summary.sentence == "House battery: 3 dips between 02:10 and 02:40 (lowest 11.62 V); steady around 12.60 V (12.59 to 12.61); no dropouts.")
    }

    @Test func aSteadyClimbIsADriftPerHour() {
        let info = StreamInfo(stream: "p", name: nil, unit: "A", firstMs: Self.t0, lastMs: Self.t0 + 7_200_000)
        let summary = HistorySummary.summarize(info: info, points: Self.minutes((0..<120).map { 1.0 + Double($0) * 0.005 }),
                                               episodes: [], windowMs: 7_200_000, utcOffsetSeconds: 3_600)
        #expect(summary.sentence == "p: drifting up 0.30 A/h; no alarms.")
    }

    @Test func windowsAndSilence() {
        #expect(HistorySummary.window("24h") == 86_400_000)
        #expect(HistorySummary.window("90m") == 5_400_000)
        #expect(HistorySummary.window("7d") == 604_800_000)
        #expect(HistorySummary.window("x") == nil && HistorySummary.window("-5h") == nil && HistorySummary.window("0h") == nil)
        let info = StreamInfo(stream: "q", name: nil, unit: "V", firstMs: 0, lastMs: 0)
        #expect(HistorySummary.summarize(info: info, points: [], episodes: [], windowMs: 86_400_000, utcOffsetSeconds: 0).sentence
                == "q: no data in the last 24 h.")
    }

    @Test func theAutomaticStepKeepsAboutTwoThousandPoints() {
        #expect(HistoryStep.automatic(fromMs: 0, toMs: 300_000) == 1)
        #expect(HistoryStep.automatic(fromMs: 0, toMs: 86_400_000) == 60)
        #expect(HistoryStep.automatic(fromMs: 0, toMs: 7 * 86_400_000) == 600)
    }
}
