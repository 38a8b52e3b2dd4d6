import CVoltSched
import NIOCore
import Synchronization

/// One event loop that serves clients, as the hub sees it: its ``LoopRoster`` (touched only on
/// that loop) and the CPU the loop last delivered on (read from any thread).
///
/// The CPU decides the order in which ``Hub`` wakes the loops for a broadcast. Waking a loop
/// on the publisher's own CPU lets it preempt the publisher at once, and any loop not woken
/// yet then waits until the first has written to all of its clients: milliseconds at a
/// thousand clients. So loops elsewhere are woken first and the one sharing the publisher's
/// CPU last (``wakeOrder(lastCPUs:publisherCPU:)``).
final class LoopSlot: Sendable {
    let roster: NIOLoopBound<LoopRoster>
    private let cpu = Atomic<Int>(-1)

    init(roster: NIOLoopBound<LoopRoster>) {
        self.roster = roster
    }

    var eventLoop: any EventLoop { roster.eventLoop }

    /// The CPU the loop last delivered on; -1 before its first broadcast or where unknown.
    var lastCPU: Int { cpu.load(ordering: .relaxed) }

    /// Runs on the loop: offers `message` to its clients, noting the CPU.
    func deliver(_ message: SharedMessage) {
        cpu.store(Self.currentCPU(), ordering: .relaxed)
        roster.value.deliver(message)
    }

    /// The CPU the calling thread runs on now; -1 where unknown.
    static func currentCPU() -> Int { Int(cvoltsched_current_cpu()) }

    /// Indices into `lastCPUs` in the order to wake their loops: those last seen on another CPU
    /// first, those on `publisherCPU` last, otherwise in the given order.
    static func wakeOrder(lastCPUs: [Int], publisherCPU: Int) -> [Int] {
        let isHere = { (index: Int) in publisherCPU >= 0 && lastCPUs[index] == publisherCPU }
        return lastCPUs.indices.filter { !isHere($0) } + lastCPUs.indices.filter(isHere)
    }
}
