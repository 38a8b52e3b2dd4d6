import Testing
@testable import VoltCore

/// ``RecentLevels`` on hand-made numbers: levels held between 1 V and 2 V, a window of five
/// samples for an edge to carry on beyond them, a spike at 14 MADs.
@Suite("RecentLevels")
struct RecentLevelsTests {
    static func levels() -> RecentLevels {
        var levels = RecentLevels(sampleRate: 10, carrySamples: 5, spikeMADs: 14)
        levels.add(1)
        levels.add(2)
        return levels
    }

    /// A judgement of `x` against a median of 1 V and a MAD of 10 mV, certainty 2 by the
    /// detector's rule; `before`: three samples ago.
    static func judge(_ levels: inout RecentLevels, x: Double, median: Double = 1, c: Double = 2,
                      startsExcursion: Bool = true, before: Double?) -> (certainty: Double, beyond: RecentLevels.Beyond?) {
        levels.judge(c, x: x, median: median, mad: 0.01, startsExcursion: startsExcursion, before: before)
    }

    @Test func aSlowEdgeBackWithinTheLevelsHeldIsNotNews() {
        var levels = Self.levels()
        let back = Self.judge(&levels, x: 1.5, before: 1.4)
        #expect(back.certainty == RecentLevels.certainty && back.beyond == nil)
    }

    @Test func whatIsNotASlowEdgeBackIsJudgedAsBefore() {
        var levels = Self.levels()
        #expect(Self.judge(&levels, x: 1.5, before: 1.0).certainty == 2, "a jump")
        #expect(Self.judge(&levels, x: 1.5, startsExcursion: false, before: 1.4).certainty == 2, "inside an alarm")
        #expect(Self.judge(&levels, x: 3.2, before: 3.1).certainty == 2, "beyond the levels by more than a quarter of the edge")
        #expect(Self.judge(&levels, x: 1.5, c: 0.8, before: 1.4).certainty == 0.8, "not news anyway")
        var empty = RecentLevels(sampleRate: 10, carrySamples: 5, spikeMADs: 14)
        #expect(Self.judge(&empty, x: 1.5, before: 1.4).certainty == 2, "no levels yet")
    }

    @Test func anEdgeHeldBackIsNewsWhenItCarriesOnBeyondTheLevels() {
        var levels = Self.levels()
        _ = Self.judge(&levels, x: 1.5, before: 1.4)
        // Its window has spread: 0.3 by the detector's rule now. 2.1 V is within a spike's
        // 14 MADs (0.14 V) of the levels; 2.2 V is beyond.
        let near = Self.judge(&levels, x: 2.1, median: 1.6, c: 0.3, before: 2.0)
        #expect(near.certainty == 0.3 && near.beyond == nil)
        let beyond = Self.judge(&levels, x: 2.2, median: 1.7, c: 0.3, before: 2.1)
        #expect(beyond.certainty == 2, "told with the certainty held back")
        #expect(beyond.beyond?.levels == 1...2 && beyond.beyond?.deviations == 50)
        #expect(Self.judge(&levels, x: 2.3, median: 1.8, c: 0.3, before: 2.2).certainty == 0.3, "told once")
    }

    @Test func anEdgeHeldBackIsForgottenAfterAWindow() {
        var levels = Self.levels()
        _ = Self.judge(&levels, x: 1.5, before: 1.4)
        for _ in 0..<5 { _ = Self.judge(&levels, x: 1.9, median: 1.6, c: 0.3, before: 1.8) }
        #expect(Self.judge(&levels, x: 2.5, median: 1.9, c: 0.3, before: 2.3).certainty == 0.3)
        // And the other way is not "beyond" at all.
        var down = Self.levels()
        _ = Self.judge(&down, x: 1.5, before: 1.4)
        #expect(Self.judge(&down, x: 0.5, median: 1.5, c: 0.3, before: 0.6).certainty == 0.3)
    }
}
