/// The lowest and highest of a value over about the last `horizon` samples.
///
/// Kept in (up to) ten buckets, so the state is fixed (two small arrays, allocated at init) and
/// an update is two comparisons; the range covers the last nine to ten tenths of the horizon
/// (all of it when the horizon is ten values or fewer, a bucket each).
/// It is read rarely (when a detector is about to alarm), so reading walks the buckets.
struct RecentRange: Sendable {
    private var lows: [Double]
    private var highs: [Double]
    /// The bucket being filled, and how many values it holds.
    private var current = 0
    private var filled = 0
    private let bucketSamples: Int

    init(horizon: Int, buckets: Int = 10) {
        let count = max(1, min(buckets, horizon))
        lows = [Double](repeating: .infinity, count: count)
        highs = [Double](repeating: -.infinity, count: count)
        bucketSamples = max(1, horizon / count)
    }

    mutating func add(_ v: Double) {
        guard v.isFinite else { return }
        if filled == bucketSamples {
            filled = 0
            current += 1
            if current == lows.count { current = 0 }
            lows[current] = .infinity
            highs[current] = -.infinity
        }
        if v < lows[current] { lows[current] = v }
        if v > highs[current] { highs[current] = v }
        filled += 1
    }

    /// The lowest and highest value held, or nil when none is.
    var bounds: ClosedRange<Double>? {
        guard let low = lows.min(), let high = highs.max(), low <= high else { return nil }
        return low...high
    }

    /// Whether `v` lies within the range held, widened by `margin` on each side (false when
    /// nothing is held).
    func contains(_ v: Double, margin: Double) -> Bool {
        guard let bounds else { return false }
        return v >= bounds.lowerBound - margin && v <= bounds.upperBound + margin
    }
}
