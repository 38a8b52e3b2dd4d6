/// A stretch of a stream's values reduced to what a chart over days needs: min, max, sum and
/// count (the mean is sum / count), and how many of its samples were anomalies.
///
/// Two aggregates of the same stretch merge exactly (min of mins, sums add), so a second that
/// spans two flushes, or a minute built from sixty seconds, is the same row whichever way it
/// was put together.
public struct Aggregate: Sendable, Equatable {
    public var min: Double
    public var max: Double
    public var sum: Double
    public var count: Int
    public var anomalies: Int

    public init(min: Double, max: Double, sum: Double, count: Int, anomalies: Int) {
        self.min = min
        self.max = max
        self.sum = sum
        self.count = count
        self.anomalies = anomalies
    }

    public init(value: Double, anomaly: Bool) {
        self.init(min: value, max: value, sum: value, count: 1, anomalies: anomaly ? 1 : 0)
    }

    public var mean: Double { count == 0 ? .nan : sum / Double(count) }

    public mutating func add(_ value: Double, anomaly: Bool) {
        if value < min { min = value }
        if value > max { max = value }
        sum += value
        count += 1
        if anomaly { anomalies += 1 }
    }

    public mutating func merge(_ other: Aggregate) {
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        sum += other.sum
        count += other.count
        anomalies += other.anomalies
    }
}

/// Per-stream aggregates by bucket (a second, a minute), gathered between two writes of the
/// store. Pure: the writer takes them with ``drain()`` and upserts them, merging with what a
/// row already holds.
public struct BucketAggregator: Sendable {
    /// Bucket length, milliseconds (1,000 or 60,000).
    public let bucketMs: Int64
    private var buckets: [Key: Aggregate] = [:]

    public struct Key: Sendable, Hashable {
        public var stream: String
        /// Bucket start, epoch milliseconds (a multiple of ``bucketMs``).
        public var startMs: Int64
    }

    public init(bucketMs: Int64) {
        self.bucketMs = bucketMs
    }

    public var isEmpty: Bool { buckets.isEmpty }
    public var count: Int { buckets.count }

    public mutating func add(stream: String, atMs: Int64, value: Double, anomaly: Bool) {
        let start = atMs - ((atMs % bucketMs) + bucketMs) % bucketMs
        let key = Key(stream: stream, startMs: start)
        if buckets[key] == nil {
            buckets[key] = Aggregate(value: value, anomaly: anomaly)
        } else {
            buckets[key]!.add(value, anomaly: anomaly)
        }
    }

    /// Everything gathered since the last drain, oldest bucket first.
    public mutating func drain() -> [(key: Key, aggregate: Aggregate)] {
        defer { buckets.removeAll(keepingCapacity: true) }
        return buckets.map { ($0.key, $0.value) }.sorted { ($0.key.startMs, $0.key.stream) < ($1.key.startMs, $1.key.stream) }
    }

    /// Keeps the newest `limit` buckets, dropping older ones (while the store cannot be
    /// written, memory stays bounded); returns how many were dropped.
    @discardableResult
    public mutating func dropOldest(keeping limit: Int) -> Int {
        guard buckets.count > limit else { return 0 }
        let cut = buckets.keys.map(\.startMs).sorted(by: >)[limit - 1]
        let before = buckets.count
        buckets = buckets.filter { $0.key.startMs >= cut }
        return before - buckets.count
    }

    /// Puts back what a failed write could not store, merged with anything newer.
    public mutating func restore(_ rows: [(key: Key, aggregate: Aggregate)]) {
        for row in rows {
            if buckets[row.key] == nil { buckets[row.key] = row.aggregate } else { buckets[row.key]!.merge(row.aggregate) }
        }
    }
}
