import NIOCore
import Testing
@testable import VoltServer

@Suite struct ClientQueueTests {
    @Test func keepsOrderWhileThereIsRoom() {
        var queue = ClientQueue<Int>(capacity: 4)
        for i in 0..<3 { #expect(queue.push(i, nowMs: 0) == .queued) }
        var out: [Int] = []
        let missed = queue.drain(into: &out)
        #expect(out == [0, 1, 2])
        #expect(missed == 0)
        #expect(queue.isEmpty)
    }

    @Test(arguments: [1, 2, 3, 8])
    func dropsTheOldestWhenFullAndCountsThem(capacity: Int) {
        var queue = ClientQueue<Int>(capacity: capacity)
        for i in 0..<(capacity + 5) { _ = queue.push(i, nowMs: Int64(i)) }
        #expect(queue.count == capacity)
        var out: [Int] = []
        let missed = queue.drain(into: &out)
        #expect(missed == 5)
        #expect(out == Array(5..<(capacity + 5)))
        #expect(queue.totalDropped == 5)
        // Told once: the next drain reports nothing missed.
        _ = queue.push(99, nowMs: 100)
        out.removeAll()
        #expect(queue.drain(into: &out) == 0)
        #expect(out == [99])
    }

    @Test func overBudgetOnlyAfterDroppingForTheWholeGrace() {
        var queue = ClientQueue<Int>(capacity: 2)
        _ = queue.push(0, nowMs: 0)
        _ = queue.push(1, nowMs: 0)
        #expect(!queue.isOverBudget(nowMs: 50_000, graceMs: 1_000))
        #expect(queue.push(2, nowMs: 1_000) == .droppedOldest)
        #expect(!queue.isOverBudget(nowMs: 1_999, graceMs: 1_000))
        _ = queue.push(3, nowMs: 2_000)
        #expect(queue.isOverBudget(nowMs: 2_000, graceMs: 1_000))
        // Catching up (a drain) stops the clock.
        var out: [Int] = []
        _ = queue.drain(into: &out)
        #expect(!queue.isOverBudget(nowMs: 10_000, graceMs: 1_000))
    }

    @Test func memoryStaysBoundedUnderAFlood() {
        var queue = ClientQueue<[UInt8]>(capacity: 16)
        for i in 0..<100_000 { _ = queue.push([UInt8(truncatingIfNeeded: i)], nowMs: Int64(i)) }
        #expect(queue.count == 16)
        #expect(queue.missed == 100_000 - 16)
    }
}

@Suite struct ClientQueueGrowthTests {
    @Test func growsOnDemandAndKeepsOrderAcrossWrapsAndDrops() {
        var queue = ClientQueue<Int>(capacity: 10)
        var out: [Int] = []
        for i in 0..<3 { #expect(queue.push(i, nowMs: 0) == .queued) }
        #expect(queue.drain(into: &out) == 0)
        #expect(out == [0, 1, 2])
        out.removeAll()
        for i in 0..<25 { _ = queue.push(i, nowMs: 0) }
        #expect(queue.count == 10)
        #expect(queue.drain(into: &out) == 15)
        #expect(out == Array(15..<25))
    }
}

@Suite struct ClientOutboxTests {
    @Test func writesAtOnceOnlyWhileOpenWritableAndCaughtUp() {
        var outbox = ClientOutbox<Int>(capacity: 2, overBudgetGraceMs: 1_000)
        // Before hello, broadcasts wait.
        #expect(outbox.offer(1, writable: true, nowMs: 0) == .queued)
        let opened = outbox.open()
        let reopened = outbox.open()
        #expect(opened)
        #expect(!reopened)
        // Something waits: a new message queues behind it rather than overtaking it.
        #expect(outbox.offer(2, writable: true, nowMs: 0) == .queued)
        var batch: [Int] = []
        #expect(outbox.drain(into: &batch) == 0)
        #expect(batch == [1, 2])
        #expect(outbox.drain(into: &batch) == nil)
        #expect(outbox.offer(3, writable: true, nowMs: 0) == .write)
        #expect(outbox.offer(4, writable: false, nowMs: 0) == .queued)
    }

    @Test func dropsOldestAndReportsMissedOnDrain() {
        var outbox = ClientOutbox<Int>(capacity: 2, overBudgetGraceMs: 1_000)
        _ = outbox.open()
        #expect(outbox.offer(1, writable: false, nowMs: 0) == .queued)
        #expect(outbox.offer(2, writable: false, nowMs: 0) == .queued)
        #expect(outbox.offer(3, writable: false, nowMs: 0) == .droppedOldest)
        #expect(outbox.totalDropped == 1)
        var batch: [Int] = []
        #expect(outbox.drain(into: &batch) == 1)
        #expect(batch == [2, 3])
    }

    @Test func reportsOverBudgetThenClosed() {
        var outbox = ClientOutbox<Int>(capacity: 1, overBudgetGraceMs: 100)
        _ = outbox.open()
        #expect(outbox.offer(1, writable: false, nowMs: 0) == .queued)
        #expect(outbox.offer(2, writable: false, nowMs: 0) == .droppedOldest)
        #expect(outbox.offer(3, writable: false, nowMs: 99) == .droppedOldest)
        #expect(outbox.offer(4, writable: false, nowMs: 100) == .overBudget)
        #expect(outbox.phase == .closed)
        #expect(outbox.offer(5, writable: true, nowMs: 200) == .closed)
    }

    @Test func dropsNeverAnnouncedAreTakenOnceEvenAfterTheOutboxClosed() {
        var outbox = ClientOutbox<Int>(capacity: 1, overBudgetGraceMs: 100)
        _ = outbox.open()
        _ = outbox.offer(1, writable: false, nowMs: 0)
        _ = outbox.offer(2, writable: false, nowMs: 0)  // drops 1
        _ = outbox.offer(3, writable: false, nowMs: 100)  // drops 2, over budget: closed
        #expect(outbox.phase == .closed)
        #expect(outbox.takeUnannouncedDrops() == 2)
        #expect(outbox.takeUnannouncedDrops() == 0)
    }

    @Test func dropsAnnouncedByAMissedEventAreNotTakenAgain() {
        var outbox = ClientOutbox<Int>(capacity: 1, overBudgetGraceMs: 1_000)
        _ = outbox.open()
        _ = outbox.offer(1, writable: false, nowMs: 0)
        _ = outbox.offer(2, writable: false, nowMs: 0)  // drops 1
        var batch: [Int] = []
        #expect(outbox.drain(into: &batch) == 1)  // the client is told: `missed {count: 1}`
        _ = outbox.offer(3, writable: false, nowMs: 0)
        _ = outbox.offer(4, writable: false, nowMs: 0)  // drops 3
        outbox.close()
        #expect(outbox.takeUnannouncedDrops() == 1)
    }

    @Test func catchingUpStopsTheBudgetClock() {
        var outbox = ClientOutbox<Int>(capacity: 1, overBudgetGraceMs: 100)
        _ = outbox.open()
        _ = outbox.offer(1, writable: false, nowMs: 0)
        #expect(outbox.offer(2, writable: false, nowMs: 0) == .droppedOldest)
        var batch: [Int] = []
        #expect(outbox.drain(into: &batch) == 1)
        _ = outbox.offer(3, writable: false, nowMs: 150)
        #expect(outbox.offer(4, writable: false, nowMs: 150) == .droppedOldest)
    }

    @Test func closeIgnoresFurtherBroadcasts() {
        var outbox = ClientOutbox<Int>(capacity: 4, overBudgetGraceMs: 1_000)
        _ = outbox.open()
        _ = outbox.offer(1, writable: false, nowMs: 0)
        outbox.close()
        var batch: [Int] = []
        #expect(outbox.drain(into: &batch) == nil)
        #expect(outbox.offer(2, writable: true, nowMs: 0) == .closed)
        let opened = outbox.open()
        #expect(!opened)
    }
}
