import Testing
@testable import VoltCore

@Suite("RingBuffer")
struct RingBufferTests {
    @Test func wrapAroundStepByStep() {
        var ring = RingBuffer(capacity: 5)
        #expect(ring.isEmpty && ring.first == nil && ring.last == nil && ring.back(0) == nil)
        var pushed: [Double] = []
        for k in 1...13 {
            let value = Double(k) * 1.5
            let evicted = ring.push(value)
            pushed.append(value)
            let window = Array(pushed.suffix(5))

            #expect(evicted == (k > 5 ? pushed[k - 6] : nil), "push #\(k) evicts the oldest only when full")
            #expect(ring.elements == window, "push #\(k)")
            #expect(ring.count == window.count)
            #expect(ring.isFull == (k >= 5))
            #expect(!ring.isEmpty)
            #expect(ring.first == window.first)
            #expect(ring.last == value)
            for lag in 0..<window.count {
                #expect(ring.back(lag) == window[window.count - 1 - lag], "push #\(k), lag \(lag)")
            }
            #expect(ring.back(window.count) == nil, "older than the window is gone")
            #expect(ring.back(-1) == nil)
            for i in 0..<window.count { #expect(ring[i] == window[i]) }
            let contiguous = ring.withContiguousElements { Array($0) }
            #expect(contiguous == window)
            let sum = ring.withContiguousElements { $0.reduce(0, +) }
            #expect(sum == window.reduce(0, +))
        }
    }

    @Test func capacityOne() {
        var ring = RingBuffer(capacity: 1)
        #expect(ring.push(1) == nil)
        #expect(ring.push(2) == 1)
        #expect(ring.push(3) == 2)
        #expect(ring.elements == [3])
        #expect(ring.first == 3 && ring.last == 3)
    }

    @Test func removeAllStartsOver() {
        var ring = RingBuffer(capacity: 3)
        for v in 1...7 { ring.push(Double(v)) }
        ring.removeAll()
        #expect(ring.isEmpty && ring.elements.isEmpty && ring.last == nil)
        #expect(ring.push(10) == nil)
        #expect(ring.push(11) == nil)
        #expect(ring.push(12) == nil)
        #expect(ring.push(13) == 10)
        #expect(ring.elements == [11, 12, 13])
    }

    @Test("matches an array model under long random use", arguments: [2, 7, 64])
    func randomModel(capacity: Int) {
        var rng = SplitMix64(seed: UInt64(capacity))
        var ring = RingBuffer(capacity: capacity)
        var model: [Double] = []
        for step in 0..<2_000 {
            if rng.next() % 500 == 0 {
                ring.removeAll()
                model.removeAll()
                continue
            }
            let v = Double(rng.next() % 1000) / 8
            let evicted = ring.push(v)
            model.append(v)
            let expectedEvicted = model.count > capacity ? model.removeFirst() : nil
            #expect(evicted == expectedEvicted, "step \(step)")
            #expect(ring.elements == model, "step \(step)")
        }
    }
}
