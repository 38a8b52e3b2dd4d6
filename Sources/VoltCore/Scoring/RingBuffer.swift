/// A fixed-capacity FIFO of doubles: pushing into a full buffer evicts (and returns) the
/// oldest value. Storage is allocated once, at init, so the scorer's hot path never allocates.
///
/// Every value is written twice, `capacity` apart, so the live elements are always one
/// contiguous run of memory (oldest to newest): loops over the window need no wrap-around
/// arithmetic and the compiler can vectorise them.
public struct RingBuffer: Sendable {
    public let capacity: Int
    private var storage: [Double]
    private var head = 0          // index of the oldest element, in 0..<capacity
    public private(set) var count = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        self.storage = [Double](repeating: 0, count: 2 * capacity)
    }

    public var isFull: Bool { count == capacity }
    public var isEmpty: Bool { count == 0 }

    /// Appends `value`; returns the value evicted to make room, if the buffer was full.
    @discardableResult
    public mutating func push(_ value: Double) -> Double? {
        let capacity = self.capacity
        return storage.withUnsafeMutableBufferPointer { s in
            if count < capacity {
                var tail = head + count
                if tail >= capacity { tail -= capacity }
                s[tail] = value
                s[tail + capacity] = value
                count += 1
                return nil
            }
            let evicted = s[head]
            s[head] = value
            s[head + capacity] = value
            head += 1
            if head == capacity { head = 0 }
            return evicted
        }
    }

    /// The i-th oldest element (0 is the oldest, `count - 1` the newest).
    public subscript(i: Int) -> Double {
        precondition(i >= 0 && i < count, "index out of range")
        return storage[head + i]
    }

    /// Calls `body` with the elements, oldest first, as one contiguous buffer.
    public func withContiguousElements<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { s in
            try body(UnsafeBufferPointer(rebasing: s[head..<(head + count)]))
        }
    }

    /// The most recently pushed value.
    public var last: Double? { count == 0 ? nil : self[count - 1] }
    /// The oldest value still held.
    public var first: Double? { count == 0 ? nil : self[0] }

    /// The value pushed `lag` pushes before the newest (0 is the newest), if still held.
    public func back(_ lag: Int) -> Double? {
        guard lag >= 0 && lag < count else { return nil }
        return self[count - 1 - lag]
    }

    public mutating func removeAll() {
        head = 0
        count = 0
    }

    /// Oldest to newest, for tests and diagnostics (allocates).
    public var elements: [Double] { withContiguousElements { Array($0) } }
}
