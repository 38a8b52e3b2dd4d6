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

@Suite struct ClientMailboxTests {
    @Test func wakesTheWriterAndReportsMissed() async {
        let mailbox = ClientMailbox(capacity: 2, overBudgetGraceMs: 1_000)
        let message = SharedMessage(event: "anomaly_result", dataJSON: "{}")
        #expect(mailbox.offer(message, nowMs: 0) == .accepted)
        #expect(mailbox.offer(message, nowMs: 0) == .accepted)
        #expect(mailbox.offer(message, nowMs: 0) == .accepted)
        var batch: [SharedMessage] = []
        let missed = await mailbox.next(into: &batch)
        #expect(missed == 1)
        #expect(batch.count == 2)
    }

    @Test func reportsOverBudgetAndClosed() {
        let mailbox = ClientMailbox(capacity: 1, overBudgetGraceMs: 100)
        let message = SharedMessage(event: "x", dataJSON: "1")
        _ = mailbox.offer(message, nowMs: 0)
        #expect(mailbox.offer(message, nowMs: 0) == .accepted)
        #expect(mailbox.offer(message, nowMs: 100) == .overBudget)
        mailbox.close()
        #expect(mailbox.offer(message, nowMs: 200) == .closed)
    }

    @Test func closeEndsAWaitingWriter() async {
        let mailbox = ClientMailbox(capacity: 4, overBudgetGraceMs: 1_000)
        await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                var batch: [SharedMessage] = []
                return await mailbox.next(into: &batch)
            }
            try? await Task.sleep(for: .milliseconds(20))
            mailbox.close()
            let result = await group.next()
            #expect(result == .some(nil))
        }
    }

    @Test func sharesOneEncodingBetweenFramings() {
        let message = SharedMessage(event: "anomaly_result", dataJSON: "{\"a\":1}")
        #expect(String(buffer: message.webSocket) == "{\"event\":\"anomaly_result\",\"data\":{\"a\":1}}")
        #expect(String(buffer: message.socketIO) == "42[\"anomaly_result\",{\"a\":1}]")
    }
}
