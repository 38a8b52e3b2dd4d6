/// The last `capacity` values kept both in arrival order and sorted, so the median and
/// quartiles of a sliding window are read in O(1).
///
/// An update is a binary search for the value that leaves and one pass sliding the values
/// between it and the new value's place (at most `capacity` doubles); with the short windows
/// the scorer uses this costs less than the bookkeeping of a two-heap median would, and it
/// never allocates after init. The MAD is O(log n) (see ``medianAbsoluteDeviation(around:)``).
public struct SortedWindow: Sendable {
    private var order: RingBuffer
    private var sorted: [Double]

    public init(capacity: Int) {
        order = RingBuffer(capacity: capacity)
        sorted = []
        sorted.reserveCapacity(capacity)
    }

    public var count: Int { order.count }
    /// The value pushed `lag` pushes before the newest (0 is the newest), if still held.
    public func back(_ lag: Int) -> Double? { order.back(lag) }
    public var capacity: Int { order.capacity }
    public var isFull: Bool { order.isFull }

    public mutating func push(_ value: Double) {
        guard let evicted = order.push(value) else {
            sorted.insert(value, at: sorted.withUnsafeBufferPointer { SortedWindow.lowerBound(of: value, in: $0) })
            return
        }
        // A quantised signal often repeats the value it had a window ago: nothing moves.
        if value == evicted { return }
        // Replace the evicted value in place, then slide the new one to its position: one
        // pass over the elements between them instead of a remove and an insert.
        sorted.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            let n = buf.count
            // The first element not less than `evicted` is an equal one: it is in the window.
            var i = SortedWindow.lowerBound(of: evicted, in: UnsafeBufferPointer(buf))
            if value > evicted {
                while i + 1 < n && base[i + 1] < value {
                    base[i] = base[i + 1]
                    i += 1
                }
            } else {
                while i > 0 && base[i - 1] > value {
                    base[i] = base[i - 1]
                    i -= 1
                }
            }
            base[i] = value
        }
    }

    /// The q-quantile (0...1) by linear interpolation between order statistics.
    public func quantile(_ q: Double) -> Double {
        let n = sorted.count
        precondition(n > 0, "quantile of an empty window")
        let position = q * Double(n - 1)
        let low = Int(position)
        let high = Swift.min(low + 1, n - 1)
        let fraction = position - Double(low)
        return sorted.withUnsafeBufferPointer { s in
            s[low] + (s[high] - s[low]) * fraction
        }
    }

    public var median: Double { quantile(0.5) }

    /// The median absolute deviation from `center` (normally the median): the median of
    /// |x − center| over the window. Unlike the interquartile range, it ignores up to half the
    /// window being somewhere else (a step to a new level), which is what keeps a level shift
    /// visible for as long as the median stays on the old level.
    ///
    /// The deviations on each side of `center` are already in order (rising to the right of
    /// it, and to the left of it read leftwards), so the middle one of all of them is the
    /// k-th smallest of two sorted runs: found by a binary search over how many of the k
    /// come from the right, O(log n) and no allocation (a merge walking outward took n/2
    /// steps, each a branch the processor could not predict).
    public func medianAbsoluteDeviation(around center: Double) -> Double {
        let n = sorted.count
        precondition(n > 0, "MAD of an empty window")
        return sorted.withUnsafeBufferPointer { s in
            // Where the values pass `center`: any split with nothing greater before it and
            // nothing smaller after it will do (values equal to `center` deviate by 0 on
            // either side). Around the median the middle is one, so no search is needed.
            let middle = n / 2
            let split = (middle == 0 || s[middle - 1] <= center) && s[middle] >= center
                ? middle : SortedWindow.lowerBound(of: center, in: s)
            let rightCount = n - split
            let leftCount = split
            // i-th smallest deviation at or right of center, j-th smallest left of it.
            @inline(__always) func right(_ i: Int) -> Double { s[split + i] - center }
            @inline(__always) func left(_ j: Int) -> Double { center - s[split - 1 - j] }
            // Take the m = (n-1)/2 + 1 smallest deviations: i from the right, m - i from the
            // left, with i the smallest count for which the next right one is no smaller than
            // the last left one taken.
            let m = (n - 1) / 2 + 1
            var low = Swift.max(0, m - leftCount), high = Swift.min(m, rightCount)
            while low < high {
                let i = (low + high) >> 1
                if right(i) < left(m - i - 1) { low = i + 1 } else { high = i }
            }
            let i = low, j = m - low
            let lower = Swift.max(i > 0 ? right(i - 1) : -.infinity, j > 0 ? left(j - 1) : -.infinity)
            if n % 2 == 1 { return lower }
            // Even count: the median is the mean of the m-th and the next smallest deviation.
            let upper = Swift.min(i < rightCount ? right(i) : .infinity, j < leftCount ? left(j) : .infinity)
            return (lower + upper) / 2
        }
    }

    /// The newest value.
    public var last: Double? { order.last }

    public mutating func removeAll() {
        order.removeAll()
        sorted.removeAll(keepingCapacity: true)
    }

    /// Sorted values, for tests.
    public var sortedValues: [Double] { sorted }

    /// The first index whose element is not less than `value` (`s.count` if none).
    ///
    /// A binary search without branches: each halving takes the same steps whatever the
    /// data, and the choice of half is a mask (all ones or zero, from the comparison) rather
    /// than an `if` or a `?:`, which the compiler turned into a branch that the processor
    /// mispredicts half the time. (Counting the smaller elements with vector compares was
    /// tried: slower on windows of 50.)
    @inline(__always)
    static func lowerBound(of value: Double, in s: UnsafeBufferPointer<Double>) -> Int {
        var length = s.count
        guard length > 0 else { return 0 }
        var first = 0
        while length > 1 {
            let half = length &>> 1
            let less = s[first &+ half &- 1] < value
            let mask = 0 &- Int(truncatingIfNeeded: unsafeBitCast(less, to: UInt8.self))
            first &+= half & mask
            length &-= half
        }
        return first &+ (s[first] < value ? 1 : 0)
    }

}
