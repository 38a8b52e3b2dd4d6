#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import VoltCore

/// The signal's rhythm is normal, its breaking is news: daily edges, daily noisy hours and
/// habitual silences stop alarming once earlier days show them, and a day whose edge does not
/// come raises `pattern`.
@Suite("Daily rhythm")
struct SeasonalSpecTests {
    static let perDay = 288  // one sample every five minutes

    /// Five-minute samples of a line that sits at 20 at night and 70 from 09:00 to 18:00
    /// (a panel, a machine), with noise; `skipJumpOnDay` stays at 20 that whole day.
    static func workdays(_ days: Int, skipJumpOnDay: Int? = nil, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<(days * perDay)).map { i in
            let day = i / perDay
            let hour = Double(i % perDay) / 12
            let high = hour >= 9 && hour < 18 && day != skipJumpOnDay
            return (high ? 70 : 20) + 0.5 * rng.gaussian()
        }
    }

    static var fiveMinutes: ModelConfig {
        var config = ModelConfig.default
        config.sampleRate = 1.0 / 300
        return config
    }

    /// Midnight UTC, so sample i of a day is at i × 5 minutes past midnight.
    static let midnight: Int64 = 1_732_147_200_000

    /// Seconds in a day: a line read once a second has this many samples a day.
    static let secondsPerDay = 86_400

    /// `days` of a line read once a second from midnight, scored at 1 Hz; `reading` gives the
    /// value at second `i` of the run, with a seeded generator for its noise.
    static func oncePerSecond(days: Int, seed: UInt64, _ reading: (_ i: Int, _ rng: inout SplitMix64) -> Double) -> [ScoredResult] {
        var rng = SplitMix64(seed: seed)
        let volts = (0..<(days * secondsPerDay)).map { reading($0, &rng) }
        return Bench.score(volts, config: oneHertz, startMs: midnight, periodMs: 1_000)
    }

    static var oneHertz: ModelConfig {
        var config = ModelConfig.default
        config.sampleRate = 1
        return config
    }

    @Test func aDailyEdgeIsNewsOnTheFirstDayAndRhythmFromTheThirdOn() {
        let results = Bench.score(Self.workdays(6, seed: 1), config: Self.fiveMinutes, startMs: Self.midnight, periodMs: 300_000)
        expectResultInvariants(results, config: Self.fiveMinutes)
        let firstDay = DetectionSpecTests.alarms(results, in: 0..<Self.perDay)
        #expect(!firstDay.isEmpty, "the first 09:00 jump is a change the scorer has never seen")
        let later = DetectionSpecTests.alarms(results, in: (2 * Self.perDay)..<results.count)
        #expect(later.isEmpty, "\(later.count) alarms from day 3 on, first: \(later.first.map { "\($0 % Self.perDay): \(results[$0].reasons)" } ?? "")")
    }

    @Test func aDayWhoseEdgeDoesNotComeRaisesPattern() {
        let results = Bench.score(Self.workdays(6, skipJumpOnDay: 5, seed: 2), config: Self.fiveMinutes, startMs: Self.midnight, periodMs: 300_000)
        let nine = 5 * Self.perDay + 9 * 12
        let pattern = (nine..<results.count).filter { results[$0].kinds.contains(.pattern) }
        #expect(pattern.first != nil && pattern.first! - nine <= 6, "flagged within half an hour of the missing edge, got \(String(describing: pattern.first.map { $0 - nine }))")
        #expect(results[pattern.first ?? nine].reasons.contains { $0.contains("at this time on earlier days") })
        #expect(DetectionSpecTests.alarms(results, in: (2 * Self.perDay)..<nine).isEmpty, "nothing before it from day 3 on")
    }

    @Test func aSunnyNoonAfterOvercastOnesIsWeatherNotABrokenRhythm() {
        // A panel in five-minute samples: dark at night, a half-sine from 07:00 to 17:00 whose
        // height is the weather's (40 on sunny days, 15 overcast). The nights make the cycle's
        // pooled scatter small; at noon the earlier days themselves differ by 25.
        let heights: [Double] = [40, 15, 40, 15, 15, 40, 15]
        var rng = SplitMix64(seed: 9)
        let volts = (0..<(heights.count * Self.perDay)).map { i in
            let hour = Double(i % Self.perDay) / 12
            let sun = hour >= 7 && hour < 17 ? sin(Double.pi * (hour - 7) / 10) : 0
            return heights[i / Self.perDay] * sun + 0.05 * rng.gaussian()
        }
        let results = Bench.score(volts, config: Self.fiveMinutes, startMs: Self.midnight, periodMs: 300_000)
        expectResultInvariants(results, config: Self.fiveMinutes)
        let pattern = (2 * Self.perDay..<results.count).filter { results[$0].kinds.contains(.pattern) }
        #expect(pattern.isEmpty, "\(pattern.count) pattern rows from day 3 on, first: \(pattern.first.map { "day \($0 / Self.perDay) \($0 % Self.perDay): \(results[$0].reasons)" } ?? "")")
    }

    @Test func aRhythmBrokenAgainAndAgainTheSameDayIsToldOnce() {
        // A battery read once a second, charged to a 14 V plateau from 08:00 to 16:00 and
        // resting at 12.4 V at night. On the fourth day clouds keep pulling it off the plateau:
        // two minutes down, one minute back, all day. That is one broken rhythm (a day unlike
        // the others), not a new one with every cloud.
        let perDay = Self.secondsPerDay
        let results = Self.oncePerSecond(days: 4, seed: 10) { i, rng in
            let second = i % perDay
            let charging = second >= 8 * 3_600 && second < 16 * 3_600
            let cloud = i / perDay == 3 && charging && (second / 60) % 3 != 2
            return (charging ? (cloud ? 13.5 : 14) : 12.4) + 0.01 * rng.gaussian()
        }
        let pattern = (3 * perDay..<results.count).filter { results[$0].kinds.contains(.pattern) }
        let told = pattern.indices.filter { $0 == 0 || pattern[$0] - pattern[$0 - 1] > 1 }.count
        let starts = pattern.indices.filter { $0 == 0 || pattern[$0] - pattern[$0 - 1] > 1 }.map { (pattern[$0] % perDay) / 60 }
        #expect(told == 1, "pattern told \(told) times on the cloudy day, at minutes \(starts)")
    }

    @Test func aRhythmBrokenAgainTheSameDayIsToldAgainOnlyWhenWorse() {
        // Five-minute samples of a battery charged to a 14 V plateau from 08:00 to 16:00 and
        // resting at 12.4 V at night. On the fourth day clouds pull it to 13.5 V for a quarter
        // of an hour every 45 minutes, and the rhythm holds in between, long enough that each
        // cloud would be a departure of its own. At 14:00 the charger fails for half an hour
        // and the battery rests at 12.4 V: three times as far, and told.
        var rng = SplitMix64(seed: 13)
        let volts = (0..<(4 * Self.perDay)).map { i in
            let minute = (i % Self.perDay) * 5
            let charging = minute >= 8 * 60 && minute < 16 * 60
            guard charging else { return 12.4 + 0.01 * rng.gaussian() }
            let cloudy = i / Self.perDay == 3 && (minute - 8 * 60) % 45 < 15
            let failed = i / Self.perDay == 3 && minute >= 14 * 60 && minute < 14 * 60 + 30
            return (failed ? 12.4 : cloudy ? 13.5 : 14) + 0.01 * rng.gaussian()
        }
        let results = Bench.score(volts, config: Self.fiveMinutes, startMs: Self.midnight, periodMs: 300_000)
        let pattern = (3 * Self.perDay..<results.count).filter { results[$0].kinds.contains(.pattern) }
        let starts = pattern.indices.filter { $0 == 0 || pattern[$0] - pattern[$0 - 1] > 1 }.map { (pattern[$0] % Self.perDay) * 5 }
        #expect(starts.count == 2 && starts.first! < 9 * 60 && starts.last! >= 14 * 60, "pattern told at minutes \(starts)")
    }

    @Test func aPanelRisingAtDawnEveryDayIsRhythmNotADrift() {
        // A panel read once a second: dark at night, its voltage rising from 06:30 and falling
        // to dark at 18:30 every day, with a little noise. The dawn climb is the steadiest
        // change the line makes all day; the first one is news, from the third day on it is the
        // line's rhythm, at the same time as the days before.
        let perDay = Self.secondsPerDay
        let results = Self.oncePerSecond(days: 4, seed: 12) { i, rng in
            let hour = Double(i % perDay) / 3_600
            let sun = hour > 6.5 && hour < 18.5 ? sin(Double.pi * (hour - 6.5) / 12) : 0
            return Bench.quantise(4.2 * pow(sun, 0.6) + 0.004 * rng.gaussian())
        }
        let dawn = 6 * 3_600 + 1_800
        let firstDawn = (dawn..<(dawn + 3_600)).filter { results[$0].kinds.contains(.drift) }
        #expect(!firstDawn.isEmpty, "the first dawn is a climb the scorer has never seen")
        let drifts = (2 * perDay..<results.count).filter { results[$0].kinds.contains(.drift) }
        #expect(drifts.isEmpty, "\(drifts.count) drift rows from day 3 on, first: \(drifts.first.map { "day \($0 / perDay) \(($0 % perDay) / 60) min: \(results[$0].reasons)" } ?? "")")
    }

    @Test func noiseThatComesEveryAfternoonIsRhythm() {
        // Once a minute; noisy from 12:00 to 16:00 every day (a charger, clouds over a panel).
        var config = ModelConfig.default
        config.sampleRate = 1.0 / 60
        let perDay = 1_440
        var rng = SplitMix64(seed: 3)
        let volts = (0..<(5 * perDay)).map { i in
            let hour = Double(i % perDay) / 60
            return 12.5 + (hour >= 12 && hour < 16 ? 0.2 : 0.02) * rng.gaussian()
        }
        let results = Bench.score(volts, config: config, startMs: Self.midnight, periodMs: 60_000)
        #expect((0..<perDay).contains { results[$0].kinds.contains(.noise) }, "the first noisy afternoon is news")
        let later = DetectionSpecTests.alarms(results, in: (2 * perDay)..<results.count)
        #expect(later.isEmpty, "\(later.count) alarms from day 3 on: \(later.prefix(4).map { "\($0 % 1440): \(results[$0].reasons)" })")
    }

    @Test func aSilenceAsLongAsAnEarlierOneStillAlarmsButRanksBelowALongerOne() {
        // Ten-minute silences (a logger's nightly pause) at 10 Hz, then one three times as long.
        var samples = Bench.samples(Bench.quiet(seconds: 600, seed: 4))
        var rng = SplitMix64(seed: 5)
        var gapAt: [Int] = []
        for (n, silence) in [600_000, 600_000, 600_000, 1_800_000].enumerated() {
            var t = samples.last!.receivedAtMs + Int64(silence)
            gapAt.append(samples.count)
            for _ in 0..<(n == 3 ? 100 : 3_000) {
                samples.append(Sample(volts: Bench.quantise(2.5 + 0.005 * rng.gaussian()), receivedAtMs: t))
                t += 100
            }
        }
        let results = Bench.score(samples)
        let threshold = ModelConfig.default.anomalyThreshold
        #expect(gapAt.allSatisfy { results[$0].kinds.contains(.dropout) }, "every silence is a fault")
        #expect(results[gapAt[0]].anomalyScore > 0.9, "the first is news")
        #expect(results[gapAt[2]].anomalyScore < threshold + 0.01, "the third is the line's habit: \(results[gapAt[2]].anomalyScore)")
        #expect(results[gapAt[3]].anomalyScore > 0.9, "three times longer than any before is news: \(results[gapAt[3]].anomalyScore)")
    }

    @Test func aDepartureDeeperThanAnyBeforeAsAShareOfTheLevelIsNewsThoughItsSizeIsNot() {
        // Five-minute samples of a street's traffic: 10 at night, 100 from 09:00 to 18:00. On
        // each of the six days before day 20 an event (a match, a fair) drew crowds: 250 for
        // two hours, an hour later each day. On day 20 a storm empties the street: 10 all day.
        // In units the storm goes less far than the crowds did, six times in the history; as
        // a share of the level it goes all the way, where a crowd's traffic was three fifths
        // crowd.
        let storm = 20
        var rng = SplitMix64(seed: 14)
        let volts = (0..<((storm + 1) * Self.perDay)).map { i in
            let day = i / Self.perDay
            let hour = Double(i % Self.perDay) / 12
            let crowd = Double(9 + day - (storm - 6))
            let level: Double
            if hour < 9 || hour >= 18 || day == storm {
                level = 10
            } else {
                level = day >= storm - 6 && hour >= crowd && hour < crowd + 2 ? 250 : 100
            }
            return level + 2 * rng.gaussian()
        }
        let results = Bench.score(volts, config: Self.fiveMinutes, startMs: Self.midnight, periodMs: 300_000)
        expectResultInvariants(results, config: Self.fiveMinutes)
        let nine = storm * Self.perDay + 9 * 12
        // Within two hours: until 10:00 the hour before nine (night) is a neighbour of the
        // weekly profile's bin, and explains the street's emptiness.
        let morning = nine..<(nine + 24)
        let stormAlarms = morning.filter { results[$0].kinds.contains(.pattern) }
        #expect(!stormAlarms.isEmpty, "the empty street is news within two hours; best score \(morning.map { results[$0].anomalyScore }.max()!)")
    }

    @Test func aSignalSampledLessThan24TimesAPeriodHasNoRhythmForIt() {
        // Hourly samples: a week has 168 of them, a day only 24 at best; at one every 90
        // minutes (16 a day) the daily profile can never fill its bins, and never expects.
        let rate = 1.0 / 5_400
        var daily = SeasonalProfile(periodMs: SeasonalDetector.dayMs, bins: 288, cycles: 4, sampleRate: rate)
        var weekly = SeasonalProfile(periodMs: 7 * SeasonalDetector.dayMs, bins: 168, cycles: 3, sampleRate: rate)
        #expect(!daily.isActive)
        #expect(weekly.isActive)
        var expected: [Double] = []
        for i in 0..<(16 * 7 * 5) {
            let t = Self.midnight + Int64(i) * 5_400_000
            let x = i % 16 < 8 ? 100.0 : 10.0
            #expect(daily.expectation(x, at: t, floor: 0.01) == nil)
            daily.learn(x, at: t, nearest: nil, departure: false, floor: 0.01)
            if let e = weekly.expectation(x, at: t, floor: 0.01) { expected.append(e.value) }
            weekly.learn(x, at: t, nearest: nil, departure: false, floor: 0.01)
        }
        #expect(!daily.isRhythmic && daily.scatterShare == .infinity, "the daily profile learnt nothing")
        #expect(!expected.isEmpty, "the weekly one, sampled often enough, expects after two weeks")
    }

    @Test func aRhythmFoundIsKeptThroughAWeekOfScatteredDaysAndLostOnlyWhenTheScatterNearsTheSwing() {
        // A daily square wave (10 at night, 100 by day) in five-minute samples, with noise of
        // the given size each day: calm days find the rhythm; days scattered enough that a
        // profile seeing only them would never call it one keep it; noise as large as the
        // rhythm loses it.
        func profile(noise: [Double], seed: UInt64) -> (rhythmic: [Bool], share: [Double]) {
            var profile = SeasonalProfile(periodMs: SeasonalDetector.dayMs, bins: 288, cycles: 4, sampleRate: 1.0 / 300)
            var rng = SplitMix64(seed: seed)
            var rhythmic: [Bool] = []
            var share: [Double] = []
            for (day, sigma) in noise.enumerated() {
                for i in 0..<Self.perDay {
                    let t = Self.midnight + Int64(day * Self.perDay + i) * 300_000
                    let hour = Double(i) / 12
                    let x = (hour >= 9 && hour < 18 ? 100 : 10) + sigma * rng.gaussian()
                    let e = profile.expectation(x, at: t, floor: 0.01)
                    profile.learn(x, at: t, nearest: e.map { abs(x - $0.value) }, departure: false, floor: 0.01)
                }
                rhythmic.append(profile.isRhythmic)
                share.append(profile.scatterShare)
            }
            return (rhythmic, share)
        }
        let scattered = 30.0
        let kept = profile(noise: [1, 1, 1, 1, 1, scattered, scattered, scattered, scattered, scattered, scattered, scattered], seed: 15)
        let never = profile(noise: [Double](repeating: scattered, count: 12), seed: 15)
        let lost = profile(noise: [1, 1, 1, 1, 1, 120, 120, 120], seed: 15)
        #expect(kept.rhythmic[4], "calm days have a rhythm (scatter \(kept.share[4]) of the swing)")
        #expect(never.rhythmic.allSatisfy { !$0 }, "scattered days alone are not one: \(never.share)")
        #expect(kept.rhythmic.dropFirst(4).allSatisfy { $0 }, "a week of them keeps the rhythm found: \(kept.share)")
        #expect(lost.rhythmic.last == false, "noise as large as the rhythm loses it: \(lost.share)")
    }
}
