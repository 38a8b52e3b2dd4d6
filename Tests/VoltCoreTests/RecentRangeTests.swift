import Testing
@testable import VoltCore

@Suite("RecentRange")
struct RecentRangeTests {
    @Test func holdsNothingUntilAValueComes() {
        var range = RecentRange(horizon: 100)
        #expect(!range.contains(0, margin: 1_000) && range.bounds == nil)
        range.add(.nan)
        range.add(.infinity)
        #expect(!range.contains(0, margin: 1_000), "values that are not finite are not levels")
        range.add(2)
        #expect(range.contains(2, margin: 0) && range.bounds == 2...2)
        #expect(range.contains(2.5, margin: 0.5) && !range.contains(2.6, margin: 0.5))
    }

    @Test func coversTheLastNineToTenTenthsOfTheHorizon() {
        // Ten buckets of ten: a value is held for at least 90 and at most 99 more values.
        var range = RecentRange(horizon: 100)
        range.add(9)
        for k in 1...200 {
            range.add(1)
            let held = range.contains(9, margin: 0)
            if k < 90 { #expect(held, "after \(k) values") }
            if k >= 100 { #expect(!held, "after \(k) values") }
        }
        #expect(range.bounds == 1...1)
        #expect(!range.contains(1.5, margin: 0.4) && range.contains(0.5, margin: 0.5))
    }

    @Test func aHorizonShorterThanTenValuesKeepsOneBucketPerValue() {
        // A slow line: half an hour at five minutes a sample is six samples.
        var range = RecentRange(horizon: 6)
        range.add(5)
        for k in 1...10 {
            range.add(0)
            #expect(range.contains(5, margin: 0) == (k < 6), "after \(k) values: held with the five after it")
        }
    }
}
