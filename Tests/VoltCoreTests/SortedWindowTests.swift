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

    /// Few distinct values (many duplicates) around `level` + 2.5, with occasional wide outliers.
    static func reading(_ rng: inout SplitMix64, level: Double = 0) -> Double {
        rng.next() % 10 == 0
            ? Double(Int64(rng.next() % 2001) - 1000) / 7
            : level + Bench.quantise(2.5 + 0.01 * rng.gaussian())
    }

    /// Pushes `steps` readings into a window of `capacity` and after each asks `check` about
    /// the window, the last `capacity` values and the newest; `check` returns how many
    /// failures it recorded, and the run stops after more than five.
    static func slide(capacity: Int, seed: UInt64, steps: Int, level: (Int) -> Double = { _ in 0 },
                      check: (_ window: SortedWindow, _ last: [Double], _ newest: Double, _ step: Int) -> Int) {
        var rng = SplitMix64(seed: seed)
        var window = SortedWindow(capacity: capacity)
        var history: [Double] = []
        var failures = 0
        for step in 0..<steps {
            let v = reading(&rng, level: level(step))
            window.push(v)
            history.append(v)
            failures += check(window, Array(history.suffix(capacity)), v, step)
            if failures > 5 { break }
        }
    }

    @Test("sorted values and quantiles track the last N values", arguments: [1, 2, 5, 50])
    func tracksTheLastN(capacity: Int) {
        Self.slide(capacity: capacity, seed: 0x50_27ED + UInt64(capacity), steps: 3_000) { window, last, v, step in
            var failures = 0
            if window.sortedValues != last.sorted() {
                failures += 1
                Issue.record("step \(step): \(window.sortedValues) != \(last.sorted())")
            }
            #expect(window.count == last.count)
            #expect(window.isFull == (step + 1 >= capacity))
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
            return failures
        }
    }

    /// The median of |x − center| over `values`, computed from scratch.
    static func referenceMAD(_ values: [Double], around center: Double) -> Double {
        let deviations = values.map { abs($0 - center) }.sorted()
        let n = deviations.count
        return (deviations[(n - 1) / 2] + deviations[n / 2]) / 2
    }

    @Test("the MAD around any center is the median of the deviations", arguments: [1, 2, 3, 8, 50, 51])
    func medianAbsoluteDeviationMatchesTheDefinition(capacity: Int) {
        // The readings on a level that steps every 300 samples.
        Self.slide(capacity: capacity, seed: 0x3AD + UInt64(capacity), steps: 2_000, level: { Double($0 / 300) }) { window, last, v, step in
            var failures = 0
            // The median (the detectors' center), a held value, and centers outside the window.
            let centers = [window.median, v, last.min()! - 1, last.max()! + 1, window.quantile(0.3)]
            for center in centers {
                let expected = Self.referenceMAD(last, around: center)
                let actual = window.medianAbsoluteDeviation(around: center)
                if actual != expected {
                    failures += 1
                    Issue.record("step \(step), center \(center): MAD \(actual) != \(expected)")
                }
            }
            return failures
        }
    }

    @Test func medianAbsoluteDeviationOfAKnownWindow() {
        var window = SortedWindow(capacity: 5)
        for v in [1.0, 2, 3, 4, 100] { window.push(v) }
        // Deviations from the median 3: 2, 1, 0, 1, 97 -> sorted 0, 1, 1, 2, 97.
        #expect(window.medianAbsoluteDeviation(around: 3) == 1)
        window.push(5)   // 2, 3, 4, 100, 5: median 4; deviations 2, 1, 0, 96, 1
        #expect(window.medianAbsoluteDeviation(around: 4) == 1)
        var even = SortedWindow(capacity: 4)
        for v in [0.0, 1, 10, 12] { even.push(v) }
        // Around 5.5: 5.5, 4.5, 4.5, 6.5 -> middle two 4.5 and 5.5.
        #expect(even.medianAbsoluteDeviation(around: 5.5) == 5)
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
