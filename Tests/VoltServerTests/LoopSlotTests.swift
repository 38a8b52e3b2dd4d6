import CoreMetrics
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import VoltServer

/// How the hub delivers to each event loop's clients: which loops it wakes and in what order,
/// which clients the publisher writes to itself, and the pinned loops it relies on.
@Suite struct LoopSlotTests {
    static func slot(on loop: any EventLoop) async throws -> LoopSlot {
        try await loop.submit {
            LoopSlot(roster: NIOLoopBound(LoopRoster(sent: Counter(label: "test_sent")), eventLoop: loop))
        }.get()
    }

    static func lanes(_ count: Int) -> [ExpressLane] {
        (0..<count).map { _ in ExpressLane(kind: .webSocket) }
    }

    @Test func thePublisherWritesItselfToALoopWithFewClientsWhereverItRuns() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let slot = try await Self.slot(on: group.next())
        let few = Self.lanes(LoopSlot.expressFanout)
        for lane in few { slot.join(lane) }
        #expect(slot.expressLanes(publisherCPU: -1)?.count == few.count)
        #expect(slot.expressLanes(publisherCPU: slot.lastCPU + 1)?.count == few.count)
        slot.leave(few[0])
        #expect(slot.expressLanes(publisherCPU: -1)?.contains { $0 === few[0] } == false)
        try await group.shutdownGracefully()
    }

    @Test func aLoopWithManyClientsIsWokenUnlessItSharesThePublishersCPU() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let slot = try await Self.slot(on: group.next())
        for lane in Self.lanes(LoopSlot.expressFanout + 1) { slot.join(lane) }
        #expect(slot.lastCPU >= 0)
        #expect(slot.expressLanes(publisherCPU: slot.lastCPU + 1) == nil)
        #expect(slot.expressLanes(publisherCPU: -1) == nil)
        #expect(slot.expressLanes(publisherCPU: slot.lastCPU)?.count == LoopSlot.expressFanout + 1)
        try await group.shutdownGracefully()
    }

    @Test func thePublisherTakesOverOnlyOnceTheLoopHasDeliveredEverythingHandedToIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let slot = try await Self.slot(on: loop)
        slot.join(ExpressLane(kind: .webSocket))
        // Hold the loop, hand it a broadcast: until it has run, the publisher must not write
        // past it, or a client would get the next broadcast first.
        let held = Mutex(true)
        loop.execute {
            while held.withLock({ $0 }) { usleep(1_000) }
        }
        slot.deliverOnLoop(SharedMessage(event: "t", dataJSON: "{}", sequence: 1))
        #expect(slot.expressLanes(publisherCPU: slot.lastCPU) == nil)
        held.withLock { $0 = false }
        try await loop.submit {}.get()
        #expect(slot.expressLanes(publisherCPU: slot.lastCPU)?.count == 1)
        try await group.shutdownGracefully()
    }

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
