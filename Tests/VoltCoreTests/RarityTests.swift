#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import VoltCore

@Suite("Rarity")
struct RarityTests {
    @Test func theSquareRootOfTwoConstantIsTheSquareRootOfTwo() {
        #expect(Rarity.sqrt2FractionBits == (2.0).squareRoot().significandBitPattern)
    }

    /// The bins are half octaves from 2^-4 up: bin ⌊2·(log₂ c + 4)⌋, the last one open-ended.
    @Test("a certainty falls in the half-octave bin of its logarithm")
    func binsAreHalfOctaves() {
        var rng = SplitMix64(seed: 0xB1E5)
        var checked = 0
        for _ in 0..<20_000 {
            // Log-uniform over 2^-4 ... 2^22, past the last bin's lower edge.
            let c = exp2(-4 + 26 * Double(rng.next() % 1_000_000) / 1_000_000)
            let expected = min(Int((2 * (log2(c) + 4)).rounded(.down)), Rarity.bins - 1)
            // log2 may round across an edge that the bits place exactly; skip values within
            // a rounding error of a half-octave edge.
            let position = 2 * (log2(c) + 4)
            if abs(position - position.rounded()) < 1e-9 { continue }
            #expect(Rarity.bin(c) == expected, "c = \(c)")
            checked += 1
        }
        #expect(checked > 19_000)
    }

    @Test func edgesAndOutsideValues() {
        #expect(Rarity.bin(0.0625) == 0)
        #expect(Rarity.bin(0.0625.nextDown) == nil)
        #expect(Rarity.bin(0) == nil)
        #expect(Rarity.bin(-1) == nil)
        #expect(Rarity.bin(.nan) == nil)
        #expect(Rarity.bin(1) == 8)
        #expect(Rarity.bin((2.0).squareRoot()) == 9)
        #expect(Rarity.bin((2.0).squareRoot().nextDown) == 8)
        #expect(Rarity.bin(2) == 10)
        #expect(Rarity.bin(.infinity) == Rarity.bins - 1)
        #expect(Rarity.bin(1e300) == Rarity.bins - 1)
    }

    /// Excursions of certainty 3 (one sample each) every `gap` samples, `count` times, after a
    /// quiet start; returns the certainty the next one would get.
    static func nextAfter(_ count: Int, every gap: Int, habitHorizon: Double, then quiet: Int) -> Double {
        var rarity = Rarity(horizon: 3_600, habitHorizon: habitHorizon)
        for _ in 0..<count {
            for _ in 0..<gap { rarity.learn(0.1) }
            rarity.learn(3)
        }
        for _ in 0..<quiet { rarity.learn(0.1) }
        return rarity.certainty(3, decades: 3)
    }

    @Test func aValueTheLastDaysHeldOftenIsAHabitThoughRareInTheLastHour() {
        // Forty alarms ten minutes apart, then five quiet hours: the hour forgot them.
        let forgotten = Self.nextAfter(40, every: 600, habitHorizon: 0, then: 18_000)
        #expect(forgotten == 3, "without the long memory it is news again")
        let habit = Self.nextAfter(40, every: 600, habitHorizon: 345_600, then: 18_000)
        #expect(habit < 1, "four days remember forty of them: \(habit)")
        // Ten are not a habit.
        #expect(Self.nextAfter(10, every: 600, habitHorizon: 345_600, then: 18_000) == 3)
    }

    @Test func theLongMemoryIsKeptOnlyWhereTheHistoryIsShorter() {
        // A slow line's history is already longer than four days: the same as no habit.
        #expect(Self.nextAfter(40, every: 600, habitHorizon: 3_000, then: 18_000) == 3)
    }

    @Test func theHabitForgetsAtItsOwnPaceAcrossTheHistorysRescaling() {
        // A history of 10 samples rescales its weights every 3,278 samples; the habit's weight
        // follows from it. Over 10,000 samples, the habit must still hold each alarm with
        // weight (1 − 1/1,000)^age.
        var rarity = Rarity(horizon: 10, habitHorizon: 1_000)
        var alarmsAt: [Int] = []
        for t in 0..<10_000 {
            if t % 250 == 0 {
                rarity.learn(3)
                alarmsAt.append(t)
            } else {
                rarity.learn(0.1)
            }
            guard t % 997 == 0, t > 0 else { continue }
            // An excursion is counted when it ends, one sample after its peak, at the weight
            // of the sample that ends it: t − peak samples before the one after t.
            let expected = alarmsAt.filter { $0 < t }.map { pow(1 - 1.0 / 1_000, Double(t - $0)) }.reduce(0, +)
            let held = rarity.habitual(3)
            #expect(abs(held - expected) <= 1e-6 * expected, "at \(t): \(held) against \(expected)")
        }
    }
}
