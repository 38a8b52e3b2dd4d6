/// The last `capacity` items, newest kept: the results `hello` replays and the bounded
/// anomaly history of `/api/anomalies`.
struct RecentRing<Element: Sendable>: Sendable {
    let capacity: Int
    private var items: [Element] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 0)
        items.reserveCapacity(self.capacity)
    }

    var count: Int { items.count }

    mutating func append(_ element: Element) {
        guard capacity > 0 else { return }
        if items.count < capacity {
            items.append(element)
        } else {
            items[next] = element
        }
        next = (next + 1) % capacity
    }

    /// Up to `limit` items, newest first.
    func newestFirst(limit: Int) -> [Element] {
        let n = min(limit, items.count)
        var out: [Element] = []
        out.reserveCapacity(n)
        var i = (next - 1 + items.count) % max(items.count, 1)
        for _ in 0..<n {
            out.append(items[i])
            i = (i - 1 + items.count) % items.count
        }
        return out
    }
}
