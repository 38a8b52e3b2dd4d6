/// What a signal did at the same phase of its last few cycles (days, weeks): the memory behind
/// ``SeasonalDetector``.
///
/// Phase is read from the samples' own timestamps (a recording replays as it ran live), in
/// fixed bins; each remembered cycle keeps a sum and a count per bin, so the state is fixed
/// (cycles × bins × 2 doubles) whatever the sample rate. The expectation at a moment is the
/// median, over the earlier remembered cycles (at least two), of the bin's mean; the nearest
/// of the bin and its two neighbours to the sample, so an event a bin early or late is still
/// the rhythm. Pure: no clock, no I/O.
struct SeasonalProfile: Sendable {
    let periodMs: Int64
    let bins: Int
    let binMs: Int64
    let cycles: Int
    private var sums: [Double]
    private var counts: [Double]
    /// The cycle number each slot holds (Int64.min: none yet).
    private var slotCycle: [Int64]
    /// Mean |x − expected| on samples that were not themselves a departure.
    private var residual: RunningMean
    /// The signal's mean level over about one period (from the bins' means), for ``swing``.
    private var level: RunningMean
    /// The bin being gathered: its sum and count join the arrays when the bin ends.
    private var pending: (cycle: Int64, slot: Int, bin: Int, sum: Double, count: Double) = (.min, 0, -1, 0, 0)
    /// Mean |expected − level|: how much the profile itself swings.
    private var swing: RunningMean
    /// Mean |x − this bin's expectation|.
    private var centreScatter: RunningMean
    /// The current bin's span, where it is, and its neighbourhood once asked for (see
    /// ``locate(_:)`` and ``neighbourhood(_:)``).
    private var spanStart = Int64.max
    private var spanEnd = Int64.min
    private var located: (cycle: Int64, slot: Int, bin: Int) = (0, 0, 0)
    private var medians: (centre: Double?, before: Double?, after: Double?, spread: Double)?

    /// The usual distance from the expectation is at least this share of the spread between
    /// the earlier cycles at this phase. The scatter is pooled over the whole cycle, so on a
    /// line whose days differ at some hours only (a solar panel: sunny or overcast at noon,
    /// dark every night) it understates those hours; a noon like one of the last days' noons
    /// is the rhythm, not a departure from it.
    static let spreadShare = 0.5

    /// Whether the signal is sampled often enough (24 times a period) to have this rhythm. A
    /// profile that is not never learns and never expects anything. (A flag rather than an
    /// optional profile: the detectors ask for every sample, and asking an optional this large
    /// whether it is there was a function call each time.)
    let isActive: Bool

    /// `bins` per period (fewer if the signal is sampled less often than that).
    init(periodMs: Int64, bins wanted: Int, cycles: Int, sampleRate: Double) {
        let perPeriod = Double(periodMs) / 1000 * sampleRate
        isActive = perPeriod >= 24
        bins = isActive ? min(wanted, Int(perPeriod)) : 1
        self.periodMs = periodMs
        binMs = periodMs / Int64(bins)
        self.cycles = cycles
        sums = [Double](repeating: 0, count: bins * cycles)
        counts = [Double](repeating: 0, count: bins * cycles)
        slotCycle = [Int64](repeating: .min, count: cycles)
        // The scatter and the swing: exact over the first 100 samples, then over about a period.
        let alpha = 1 / max(100, perPeriod)
        residual = RunningMean(warmup: 100, alpha: alpha)
        swing = RunningMean(warmup: 100, alpha: alpha)
        centreScatter = RunningMean(warmup: 100, alpha: alpha)
        // The level: from the bins' means, over about a period's bins.
        level = RunningMean(warmup: 10, alpha: 1 / Double(max(10, bins)))
    }

    /// Where `timeMs` falls: the cycle number, its slot and the bin. Remembered for the
    /// current bin's span, so the divisions are paid once per bin, not on every sample.
    mutating func locate(_ timeMs: Int64) -> (cycle: Int64, slot: Int, bin: Int) {
        if timeMs >= spanStart && timeMs < spanEnd { return located }
        let cycle = timeMs >= 0 ? timeMs / periodMs : (timeMs + 1) / periodMs - 1
        let bin = min(bins - 1, Int((timeMs - cycle * periodMs) / binMs))
        let slot = Int(((cycle % Int64(cycles)) + Int64(cycles)) % Int64(cycles))
        located = (cycle, slot, bin)
        medians = nil
        spanStart = cycle * periodMs + Int64(bin) * binMs
        spanEnd = bin == bins - 1 ? (cycle + 1) * periodMs : spanStart + binMs
        return located
    }

    /// The expected value at `timeMs` nearest to `x` (or the highest of the three bins, for a
    /// level that may be reached a bin early or late), with the usual distance from it
    /// (floored at `floor`), the lowest and highest of the three, and whether the profile has a
    /// rhythm at all (``isRhythmic``); nil until two earlier cycles are known at this phase.
    mutating func expectation(_ x: Double, at timeMs: Int64, floor: Double, highest: Bool = false)
        -> (value: Double, usual: Double, low: Double, high: Double, rhythmic: Bool)? {
        guard isActive, residual.count >= 20 else { return nil }
        let around = neighbourhood(locate(timeMs))
        guard let centre = around.centre else { return nil }
        var best = centre
        var low = centre, high = centre
        if let m = around.before {
            if highest ? m > best : abs(x - m) < abs(x - best) { best = m }
            low = min(low, m)
            high = max(high, m)
        }
        if let m = around.after {
            if highest ? m > best : abs(x - m) < abs(x - best) { best = m }
            low = min(low, m)
            high = max(high, m)
        }
        return (best, max(residual.value, floor, SeasonalProfile.spreadShare * around.spread), low, high, isRhythmic)
    }

    /// Adds the bin being gathered to its cycle's slot, and moves the mean level towards it.
    private mutating func flush() {
        guard pending.count > 0, slotCycle[pending.slot] == pending.cycle else { return }
        sums[pending.slot * bins + pending.bin] += pending.sum
        counts[pending.slot * bins + pending.bin] += pending.count
        level.add(pending.sum / pending.count)
        pending.count = 0
        pending.sum = 0
    }

    /// The earlier cycles' medians of this bin and its neighbours. They change only when the
    /// bin does (earlier cycles are not written to), so they are computed once per bin: at
    /// 10 Hz, once every 3,000 samples.
    /// `here` is what ``locate(_:)`` returned last: a new bin there clears the cache.
    private mutating func neighbourhood(_ here: (cycle: Int64, slot: Int, bin: Int)) -> (centre: Double?, before: Double?, after: Double?, spread: Double) {
        if let medians { return medians }
        let centre = earlierMedian(bin: here.bin, cycle: here.cycle, today: here.slot)
        let found = (centre?.median,
                     here.bin > 0 ? earlierMedian(bin: here.bin - 1, cycle: here.cycle, today: here.slot)?.median : nil,
                     here.bin + 1 < bins ? earlierMedian(bin: here.bin + 1, cycle: here.cycle, today: here.slot)?.median : nil,
                     centre?.spread ?? 0)
        medians = found
        return found
    }

    /// Whether the profile has a shape of its own: its swings (mean |expected − level|) at
    /// least twice the scatter around it. Pure noise has a flat profile; a square wave, a
    /// daily ramp or a week of busy and quiet days does not. A rhythm once found is kept
    /// until the scatter reaches three quarters of the swing (halfway to a scatter as large
    /// as the rhythm itself): a week of holidays scatters a city's weeks, and the storm that
    /// follows must still be judged against them.
    private(set) var isRhythmic = false
    /// The scatter, as a share of the swing, below which a rhythm is found.
    static let rhythmFound = 0.5
    /// The scatter, as a share of the swing, above which a rhythm found is lost.
    static let rhythmLost = 0.75

    /// The scatter around the profile as a share of its swings (infinite while it has none).
    var scatterShare: Double { swing.value > 0 ? centreScatter.value / swing.value : .infinity }

    /// Remembers `x` at `timeMs`; unless the sample was a departure, its distance from this
    /// bin's expectation updates the usual scatter.
    mutating func learn(_ x: Double, at timeMs: Int64, nearest: Double?, departure: Bool, floor: Double) {
        guard isActive else { return }
        let here = locate(timeMs)
        if here.bin != pending.bin || here.cycle != pending.cycle {
            // A new bin: what the last one gathered goes into the arrays (once per bin, not
            // per sample), and a new cycle takes the slot of the oldest one.
            flush()
            if slotCycle[here.slot] != here.cycle {
                slotCycle[here.slot] = here.cycle
                for b in 0..<bins {
                    sums[here.slot * bins + b] = 0
                    counts[here.slot * bins + b] = 0
                }
            }
            pending = (here.cycle, here.slot, here.bin, 0, 0)
        }
        pending.sum += x
        pending.count += 1
        guard !departure, let median = neighbourhood(here).centre else { return }
        // The usual scatter is learnt with the statistic it judges: the distance to the
        // nearest of the three bins' expectations (`nearest`, from ``expectation``), or to
        // this bin's while there is none yet. One outlier cannot inflate it: it counts at most
        // four usual ones.
        let distance = nearest ?? abs(x - median)
        residual.add(residual.count >= 20 ? min(distance, 4 * max(residual.value, floor)) : distance)
        // The rhythm test compares this very bin's scatter with the profile's swing (the
        // nearest of three would flatter pure noise).
        let centre = abs(x - median)
        centreScatter.add(min(centre, 4 * max(centreScatter.value, floor)))
        swing.add(abs(median - level.value))
        // Products, not the share itself: no division on every sample.
        if centreScatter.value < SeasonalProfile.rhythmFound * swing.value {
            isRhythmic = true
        } else if centreScatter.value > SeasonalProfile.rhythmLost * swing.value {
            isRhythmic = false
        }
    }

    /// The median of this bin's means on the earlier remembered cycles, and their spread (the
    /// highest less the lowest); nil unless two are known.
    private func earlierMedian(bin: Int, cycle: Int64, today: Int) -> (median: Double, spread: Double)? {
        var values = (0.0, 0.0, 0.0)
        var known = 0
        for s in 0..<cycles where s != today && slotCycle[s] > cycle - Int64(cycles) && slotCycle[s] < cycle {
            let n = counts[s * bins + bin]
            guard n > 0 else { continue }
            let mean = sums[s * bins + bin] / n
            switch known {
            case 0: values.0 = mean
            case 1: values.1 = mean
            default: values.2 = mean
            }
            known += 1
            if known == 3 { break }
        }
        guard known >= 2 else { return nil }
        if known == 2 { return ((values.0 + values.1) / 2, abs(values.0 - values.1)) }
        let low = min(values.0, values.1, values.2), high = max(values.0, values.1, values.2)
        return (max(min(values.0, values.1), min(max(values.0, values.1), values.2)), high - low)
    }
}
