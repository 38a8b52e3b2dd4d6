import CoreMetrics
import NIOCore

/// The clients one event loop serves. Touched only on that loop (the hub holds it in a
/// `NIOLoopBound`), so joining, leaving and delivering need no lock; a broadcast reaches the
/// loop in one `execute` and is offered to each client in turn.
final class EventLoopClients {
    private var receivers: [ObjectIdentifier: any BroadcastReceiver] = [:]
    private let sent: Counter

    init(sent: Counter) {
        self.sent = sent
    }

    var isEmpty: Bool { receivers.isEmpty }

    func add(_ receiver: any BroadcastReceiver) {
        receivers[ObjectIdentifier(receiver)] = receiver
    }

    func remove(_ receiver: any BroadcastReceiver) {
        receivers[ObjectIdentifier(receiver)] = nil
    }

    /// Offers `broadcast` to every client of the loop and counts what was written at once.
    func deliver(_ broadcast: Broadcast) {
        let now = Now.monotonicMs
        var written = 0
        for receiver in receivers.values where receiver.receive(broadcast, nowMs: now) {
            written += 1
        }
        if written > 0 { sent.increment(by: written) }
    }
}
