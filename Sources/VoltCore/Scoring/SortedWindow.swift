/// The last `capacity` values kept both in arrival order and sorted, so the median and
/// quartiles of a sliding window are read in O(1).
///
/// An update is two binary searches and two shifts of a fixed-size array (at most `capacity`
/// doubles, moved with `memmove`); with the short windows the scorer uses this costs less than
/// the bookkeeping of a two-heap median would, and it never allocates after init.
public struct SortedWindow: Sendable {
    private var order: RingBuffer
    private var sorted: [Double]

    public init(capacity: Int) {
        order = RingBuffer(capacity: capacity)
        sorted = []
        sorted.reserveCapacity(capacity)
    }

    public var count: Int { order.count }
    public var capacity: Int { order.capacity }
    public var isFull: Bool { order.isFull }

    public mutating func push(_ value: Double) {
        guard let evicted = order.push(value) else {
            sorted.insert(value, at: insertionIndex(of: value))
            return
        }
        // Replace the evicted value in place, then slide the new one to its position: one
        // pass over the elements between them instead of a remove and an insert.
        sorted.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            let n = buf.count
            // The first element not less than `evicted` is an equal one: it is in the window.
            var low = 0, high = n
            while low < high {
                let mid = (low + high) >> 1
                if base[mid] < evicted { low = mid + 1 } else { high = mid }
            }
            var i = low
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
    /// |x − center| over the window. Found by walking outward from `center` with two
    /// pointers, since the deviations on each side are already in order — about n/2 steps,
    /// no allocation. Unlike the interquartile range, it ignores up to half the window
    /// being somewhere else (a step to a new level), which is what keeps a level shift
    /// visible for as long as the median stays on the old level.
    public func medianAbsoluteDeviation(around center: Double) -> Double {
        let n = sorted.count
        precondition(n > 0, "MAD of an empty window")
        return sorted.withUnsafeBufferPointer { s in
            // right: first index with s[right] >= center; left = right - 1.
            var low = 0, high = n
            while low < high {
                let mid = (low + high) >> 1
                if s[mid] < center { low = mid + 1 } else { high = mid }
            }
            var right = low
            var left = low - 1
            // Take the (n-1)/2-th and n/2-th smallest deviations (0-based) and average them.
            let lowerRank = (n - 1) / 2
            let upperRank = n / 2
            var lowerValue = 0.0
            var rank = 0
            while true {
                let takeRight: Bool
                if left < 0 { takeRight = true } else if right >= n { takeRight = false } else {
                    takeRight = s[right] - center <= center - s[left]
                }
                let deviation: Double
                if takeRight { deviation = s[right] - center; right += 1 } else { deviation = center - s[left]; left -= 1 }
                if rank == lowerRank { lowerValue = deviation }
                if rank == upperRank { return (lowerValue + deviation) / 2 }
                rank += 1
            }
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

    private func insertionIndex(of value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) >> 1
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

}
