/// The signal's rhythm: what it did at this time on the last few days, and on this day of the
/// last few weeks.
///
/// Real lines have days (a solar panel rises at dawn, a battery charges every evening, a
/// machine warms up at nine) and often weeks (a workshop idle on Sundays). The short-window
/// detectors see each of those edges as a jump away from the last minutes; compared with the
/// same time of earlier cycles it is nothing new. So once two earlier cycles are known at this
/// phase (``SeasonalProfile``), and only where the profile really explains the signal's swings,
/// this detector
/// - gives the spike detector the *expected* value and how far the signal usually strays from
///   it, so a jump the signal made at this time on earlier days is not a spike, a dip or a
///   level shift;
/// - reports `pattern` when the signal departs from every rhythm it has (the daily edge that
///   did not come, a weekday that looks like a holiday) by far more than it usually does, for
///   at least a minute (two samples on slow signals), judged for rarity like the other learnt
///   detectors and accepted as the new normal after `adapt_seconds`, like a level shift.
///   A departure is rare if departures that large have been rare, or if it is deeper than
///   earlier ones as a share of the level: a street whose traffic holidays have halved a few
///   times empties in a blizzard, no further in vehicles than a holiday's afternoon at rush
///   hour, but all the way to zero.
///
/// Daily: 288 five-minute bins, 4 days remembered. Weekly: 168 hourly bins, 3 weeks. A signal
/// sampled less than 24 times a period has no profile for it. State: about 26 KB.
struct SeasonalDetector: Sendable {
    static let dayMs: Int64 = 86_400_000
    /// A departure of this many usual residuals (mean |x − expected|) makes `pattern` certain
    /// before rarity; about 10 σ for Gaussian cycle-to-cycle scatter.
    static let patternResiduals = 8.0

    private var daily: SeasonalProfile
    private var weekly: SeasonalProfile
    private var rarity: Rarity
    private let rarityDecades: Double
    private let adaptSamples: Int
    /// Samples a departure must last to be a broken rhythm: two, or a minute's worth.
    private let persistence: Int
    /// Samples the departure in progress has lasted, less the samples it has since been away.
    private var excursion = 0
    /// The departure in progress has lasted `adapt_seconds` past `persistence`: the new normal
    /// until it has gone for as long as it lasted.
    private var adapted = false
    /// The largest departure told within a day of the last one told, and when that was; nil
    /// once a day has passed. A rhythm broken again the same day is told again only when it is
    /// worse (twice as far): an overcast day pulls a panel off its rhythm again and again.
    private var told: (peak: Double, atMs: Int64)?
    /// The departure in progress is being told.
    private var telling = false
    private let enabled: Bool
    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        daily = SeasonalProfile(periodMs: SeasonalDetector.dayMs, bins: 288, cycles: 4, sampleRate: config.sampleRate)
        weekly = SeasonalProfile(periodMs: 7 * SeasonalDetector.dayMs, bins: 168, cycles: 3, sampleRate: config.sampleRate)
        rarity = Rarity(config: config, shares: true)
        rarityDecades = config.rarityBarDecades
        adaptSamples = config.adaptSamples
        persistence = max(2, Int((60 * config.sampleRate).rounded()))
        enabled = config.enabledKinds.contains(.pattern)
    }

    /// Which rhythm an expectation comes from; its name is the reasons' word for it.
    enum Cycle: String {
        case day, week
    }

    /// What earlier cycles say about this moment: the expected value and the usual distance
    /// from it.
    ///
    /// Plain numbers only (the cycle is an enum, not its name): it is made, compared and
    /// passed to two detectors on every sample, and a string in it made each of those copies
    /// a reference count.
    struct Expectation {
        var value: Double
        var scale: Double
        var cycle: Cycle
        /// The lowest and highest of the earlier days' values in this bin and its two
        /// neighbours: where the rhythm passes within a bin of now.
        var low: Double
        var high: Double

        /// How far `x` departs from the rhythm: 1 at ``patternResiduals`` usual residuals.
        func departure(of x: Double) -> Double {
            abs(x - value) / (SeasonalDetector.patternResiduals * scale)
        }

        /// How far `x` lies outside the values the rhythm passes through within a bin of now,
        /// in the same units as ``departure(of:)``. On a steep stretch of the day (a panel's
        /// dawn) the bins' means are far apart and a value between them is the rhythm, though
        /// far from each.
        func departureFromBand(of x: Double) -> Double {
            max(0, x - high, low - x) / (SeasonalDetector.patternResiduals * scale)
        }
    }

    /// Scores `x` at `timeMs` against earlier cycles and learns it. Returns the expectation
    /// (of the rhythm that explains `x` best) the spike detector compares with.
    mutating func observe(_ x: Double, timeMs: Int64, scale: SignalScale, into verdict: inout Verdict) -> Expectation? {
        guard daily.isActive || weekly.isActive, x.isFinite else { return nil }
        let floor = scale.floor
        let fromDay = daily.expectation(x, at: timeMs, floor: floor)
        let fromWeek = weekly.expectation(x, at: timeMs, floor: floor)
        // The rhythm that explains x best, among those the signal really has.
        var best: Expectation?
        var raw = Double.infinity
        func consider(_ e: (value: Double, usual: Double, low: Double, high: Double, rhythmic: Bool)?, _ cycle: Cycle) {
            guard let e, e.rhythmic else { return }
            let candidate = Expectation(value: e.value, scale: e.usual, cycle: cycle, low: e.low, high: e.high)
            let r = candidate.departure(of: x)
            if r < raw {
                raw = r
                best = candidate
            }
        }
        consider(fromDay, .day)
        consider(fromWeek, .week)
        var departure = false
        if let best {
            // The departure as a share of the level; only read for a departure (raw ≥ 1).
            let share = raw >= 1
                ? Rarity.share(of: x, from: best.value, lowest: scale.lowest, certain: Self.patternResiduals * best.scale) : 0
            let c = rarity.certainty(raw, share: share, decades: rarityDecades)
            rarity.learn(raw, share: share)
            departure = c >= 1
            // A broken rhythm is a departure that lasts (a lone sample is the spike
            // detector's); reported once it held `persistence` samples, until it held
            // adapt_seconds more: then it is the new normal, and the profiles follow it. A
            // departure that comes back before it was away as long as it lasted is the same
            // one (a cloudy day that keeps pulling a battery off its plateau): its time counts
            // down while the rhythm holds, and it is told again only once that reached zero.
            excursion = departure ? excursion + 1 : max(0, excursion - 1)
            if excursion > persistence + adaptSamples { adapted = true }
            if excursion == 0 { adapted = false }
            if let last = told, timeMs - last.atMs >= SeasonalDetector.dayMs || timeMs < last.atMs { told = nil }
            if enabled, departure, !adapted, excursion >= persistence {
                telling = telling || raw > 2 * (told?.peak ?? 0)
            } else {
                telling = false
            }
            if telling {
                told = (max(raw, told?.peak ?? 0), timeMs)
                verdict.add(.pattern, certainty: c) {
                    let side = x > best.value ? "above" : "below"
                    return "pattern: \(FixedPoint.format(x)) \(unit) is \(FixedPoint.format(abs(x - best.value) / best.scale, digits: 0))× the usual scatter \(side) \(FixedPoint.format(best.value)) \(unit), its value at this time on earlier \(best.cycle.rawValue)s"
                }
            }
        } else {
            excursion = 0
            adapted = false
            telling = false
        }
        daily.learn(x, at: timeMs, nearest: fromDay.map { abs(x - $0.value) }, departure: departure, floor: floor)
        weekly.learn(x, at: timeMs, nearest: fromWeek.map { abs(x - $0.value) }, departure: departure, floor: floor)
        return best
    }
}
