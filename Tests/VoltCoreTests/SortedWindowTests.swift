import Testing
@testable import VoltCore

@Suite("SortedWindow")
struct SortedWindowTests {
    /// The q-quantile of `values` by linear interpolation between order statistics (R-7,
    /// numpy's default), computed from scratch.
    static func referenceQuantile(_ values: [Double], _ q: Double) -> Double {
        let s = values.sorted()
        let h = q * Double(s.count - 1)
        let lo = h.rounded(.down)
        let i = Int(lo)
        guard i + 1 < s.count else { return s[i] }
        return s[i] + (h - lo) * (s[i + 1] - s[i])
    }

    static let quantiles = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]

    @Test("sorted values and quantiles track the last N values", arguments: [1, 2, 5, 50])
    func tracksTheLastN(capacity: Int) {
        var rng = SplitMix64(seed: 0x50_27ED + UInt64(capacity))
        var window = SortedWindow(capacity: capacity)
        var history: [Double] = []
        var failures = 0
        for step in 0..<3_000 {
            // Few distinct values (many duplicates), with occasional wide outliers.
            let v: Double = rng.next() % 10 == 0
                ? Double(Int64(rng.next() % 2001) - 1000) / 7
                : Bench.quantise(2.5 + 0.01 * rng.gaussian())
            window.push(v)
            history.append(v)
            let last = Array(history.suffix(capacity))
            if window.sortedValues != last.sorted() {
                failures += 1
                Issue.record("step \(step): \(window.sortedValues) != \(last.sorted())")
            }
            #expect(window.count == last.count)
            #expect(window.isFull == (history.count >= capacity))
            #expect(window.last == v)
            for q in Self.quantiles {
                let expected = Self.referenceQuantile(last, q)
                let actual = window.quantile(q)
                if abs(actual - expected) > 1e-12 * max(1, abs(expected)) {
                    failures += 1
                    Issue.record("step \(step), q \(q): \(actual) != \(expected)")
                }
            }
            #expect(window.median == Self.referenceQuantile(last, 0.5))
            if failures > 5 { break }
        }
    }

    @Test func quantilesOfAKnownWindow() {
        var window = SortedWindow(capacity: 4)
        for v in [9.0, 1, 5, 3, 7] { window.push(v) }   // holds 1, 5, 3, 7
        #expect(window.sortedValues == [1, 3, 5, 7])
        #expect(window.median == 4)
        #expect(window.quantile(0) == 1)
        #expect(window.quantile(1) == 7)
        #expect(window.quantile(0.25) == 2.5)
        #expect(window.quantile(0.75) == 5.5)
    }

    @Test func evictingADuplicateKeepsTheOtherCopies() {
        var window = SortedWindow(capacity: 3)
        for v in [2.0, 2, 2, 1, 3] { window.push(v) }
        #expect(window.sortedValues == [1, 2, 3])
        window.push(2)
        #expect(window.sortedValues == [1, 2, 3])
        window.push(2)
        #expect(window.sortedValues == [2, 2, 3])
    }

    @Test func removeAllStartsOver() {
        var window = SortedWindow(capacity: 3)
        for v in [4.0, 5, 6, 7] { window.push(v) }
        window.removeAll()
        #expect(window.count == 0 && window.sortedValues.isEmpty && window.last == nil)
        window.push(1)
        #expect(window.sortedValues == [1])
        #expect(window.median == 1)
    }
}
