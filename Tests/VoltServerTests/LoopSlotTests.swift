import NIOCore
import NIOPosix
import Testing
@testable import VoltServer

/// The order the hub wakes event loops in, and the pinned loops it relies on.
@Suite struct LoopSlotTests {
    @Test func loopsOnOtherCPUsAreWokenBeforeTheOneOnThePublishersCPU() {
        #expect(LoopSlot.wakeOrder(lastCPUs: [0, 1], publisherCPU: 0) == [1, 0])
        #expect(LoopSlot.wakeOrder(lastCPUs: [0, 1], publisherCPU: 1) == [0, 1])
        #expect(LoopSlot.wakeOrder(lastCPUs: [2, 0, 1, 3], publisherCPU: 1) == [0, 1, 3, 2])
    }

    @Test func unknownCPUsKeepTheGivenOrder() {
        #expect(LoopSlot.wakeOrder(lastCPUs: [-1, -1], publisherCPU: 0) == [0, 1])
        #expect(LoopSlot.wakeOrder(lastCPUs: [0, 1], publisherCPU: -1) == [0, 1])
    }

    @Test func theCallingThreadRunsOnAnAllowedCPU() {
        let allowed = EventLoopPlacement.allowedCPUs()
        #expect(!allowed.isEmpty)
        #expect(allowed == allowed.sorted())
        #expect(allowed.contains(LoopSlot.currentCPU()))
    }

    @Test func pinnedLoopsEachRunOnTheirOwnCPU() async throws {
        let allowed = EventLoopPlacement.allowedCPUs()
        let placement = EventLoopPlacement.group(pinned: true)
        guard allowed.count > 1 else {
            #expect(placement.owned == false)  // one CPU: NIO's shared loops
            return
        }
        #expect(placement.owned)
        var seen: [Int] = []
        for loop in placement.group.makeIterator() {
            seen.append(try await loop.submit { LoopSlot.currentCPU() }.get())
        }
        #expect(seen == allowed)
        try await placement.group.shutdownGracefully()
    }
}
