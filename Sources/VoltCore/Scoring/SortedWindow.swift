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
