import CVoltSched
import NIOCore
import Synchronization

/// One event loop that serves clients, as the hub sees it: the ``ExpressLane`` of each of its
/// clients, its ``LoopRoster`` (touched only on that loop), and the CPU the loop runs on.
///
/// A broadcast is one pass over the lanes: a send to each open lane, and whatever a lane
/// cannot take (its client is slow, joining or leaving) left for the loop, which delivers it by
/// the outbox rules. The hub has the pass made one of two ways:
/// - **On the loop** (``deliverOnLoop(_:)``): one `execute`. A loop on another CPU works in
///   parallel with the publisher, so at a thousand clients the loops elsewhere are woken first
///   (``wakeOrder(lastCPUs:publisherCPU:)``): one woken on the publisher's own CPU would preempt
///   it before it woke the others.
/// - **By the publisher** (``expressPass(_:lanes:)``), for the loop on the publisher's own CPU and
///   for loops with few clients: waking a loop costs more than a few sends, and the loop on the
///   publisher's CPU could not run before the publisher is done anyway.
///
/// A slot changes from the first way to the second only once the loop has finished every
/// broadcast handed to it (``expressLanes(publisherCPU:)``), so no client receives a later
/// broadcast from the publisher before an earlier one from its loop.
final class LoopSlot: Sendable {
    let roster: NIOLoopBound<LoopRoster>
    private let cpu: Atomic<Int>
    private let lanes = Mutex<[ExpressLane]>([])
    /// Broadcasts handed to the loop and not yet delivered.
    private let onLoop = Atomic<Int>(0)

    /// Up to this many clients, the publisher writes a slot's broadcasts itself wherever its
    /// loop runs: about the cost of one cross-CPU wake-up on a small VM.
    static let expressFanout = 8

    /// Created on its loop, which notes the loop's CPU.
    init(roster: NIOLoopBound<LoopRoster>) {
        self.roster = roster
        cpu = Atomic(Self.currentCPU())
    }

    var eventLoop: any EventLoop { roster.eventLoop }

    /// The CPU the loop last ran a broadcast on; -1 where unknown.
    var lastCPU: Int { cpu.load(ordering: .relaxed) }

    /// The CPU the calling thread runs on now; -1 where unknown.
    static func currentCPU() -> Int { Int(cvoltsched_current_cpu()) }

    func join(_ lane: ExpressLane) {
        lanes.withLock { $0.append(lane) }
    }

    func leave(_ lane: ExpressLane) {
        lanes.withLock { lanes in
            if let index = lanes.lastIndex(where: { $0 === lane }) { lanes.remove(at: index) }
        }
    }

    // MARK: The publisher's side

    /// The lanes to write a broadcast to from the publisher, or nil when the loop should
    /// deliver it: the loop is elsewhere and has more than ``expressFanout`` clients, or it
    /// still has broadcasts to deliver.
    func expressLanes(publisherCPU: Int) -> [ExpressLane]? {
        guard onLoop.load(ordering: .acquiring) == 0 else { return nil }
        let lanes = self.lanes.withLock { $0 }
        let here = publisherCPU >= 0 && lastCPU == publisherCPU
        return here || lanes.count <= Self.expressFanout ? lanes : nil
    }

    /// Writes `message` to every open lane, in one batch (``SendBatch``); returns how many were
    /// written and the lanes that left something for the loop (give those to
    /// ``deliverLeftovers(_:)`` on the loop).
    func expressPass(_ message: SharedMessage, lanes: [ExpressLane]) -> (sent: Int, leftovers: [ExpressLane]) {
        var leftovers: [ExpressLane] = []
        var claimed: [ExpressLane] = []
        var descriptors: [Int32] = []
        claimed.reserveCapacity(lanes.count)
        descriptors.reserveCapacity(lanes.count)
        // Each open lane stays locked from its claim to its finish, so nobody else writes to
        // its socket while the batch is in flight. Locks are taken in list order.
        for lane in lanes {
            switch lane.claim(message) {
            case .send(let descriptor):
                claimed.append(lane)
                descriptors.append(descriptor)
            case .leftForLoop:
                leftovers.append(lane)
            case .skipped:
                break
            }
        }
        guard !claimed.isEmpty else { return (0, leftovers) }
        let results = message.webSocketFrame.withUnsafeReadableBytes { webSocket in
            message.socketIOFrame.withUnsafeReadableBytes { socketIO in
                SendBatch.send(
                    descriptors,
                    buffers: claimed.map { $0.kind == .webSocket ? webSocket.baseAddress : socketIO.baseAddress },
                    lengths: claimed.map { UInt32($0.kind == .webSocket ? webSocket.count : socketIO.count) })
            }
        }
        var sent = 0
        for (lane, result) in zip(claimed, results) {
            if lane.finish(result, frame: message.frame(for: lane.kind)) == .sent {
                sent += 1
            } else {
                leftovers.append(lane)
            }
        }
        return (sent, leftovers)
    }

    /// Hands `message` to the loop, which makes the same pass over the lanes (a compact walk:
    /// one object per client) and then delivers what was left by the usual rules, at once.
    func deliverOnLoop(_ message: SharedMessage) {
        onLoop.add(1, ordering: .relaxed)
        eventLoop.execute { [self] in
            cpu.store(Self.currentCPU(), ordering: .relaxed)
            let (sent, leftovers) = expressPass(message, lanes: lanes.withLock { $0 })
            roster.value.deliverLeftovers(leftovers, alreadySent: sent)
            onLoop.subtract(1, ordering: .releasing)
        }
    }

    /// On the loop: what the publisher left in `lanes`.
    func deliverLeftovers(_ lanes: [ExpressLane]) {
        cpu.store(Self.currentCPU(), ordering: .relaxed)
        roster.value.deliverLeftovers(lanes)
    }

    /// Indices into `lastCPUs` in the order to wake their loops: those last seen on another CPU
    /// first, those on `publisherCPU` last, otherwise in the given order.
    static func wakeOrder(lastCPUs: [Int], publisherCPU: Int) -> [Int] {
        let isHere = { (index: Int) in publisherCPU >= 0 && lastCPUs[index] == publisherCPU }
        return lastCPUs.indices.filter { !isHere($0) } + lastCPUs.indices.filter(isHere)
    }
}
