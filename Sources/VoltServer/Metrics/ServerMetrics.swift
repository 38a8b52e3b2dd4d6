import CoreMetrics
import Synchronization
import VoltCore

/// The metrics the hub and the sessions record, created once from one factory.
///
/// Per-device figures arrive as cumulative ``StreamCounters``; Prometheus counters only go up,
/// so the difference from the previous report is added (a device whose counters restart, after
/// a reconnect, contributes its new totals).
final class ServerMetrics: Sendable {
    private let factory: any MetricsFactory
    let anomaliesByKind: [Counter]
    let anomalies: Counter
    let messagesDropped: Counter
    let messagesSent: Counter
    let clientsDisconnectedSlow: Counter
    let clients: [ClientKind: Meter]
    let scorerDuration: Timer

    private struct DeviceMetrics: Sendable {
        var results: Counter
        var frames: Counter
        var lost: Counter
        var invalid: [RejectionReason: Counter]
        var last = StreamCounters()
    }
    private let devices = Mutex<[String: DeviceMetrics]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
        anomaliesByKind = AnomalyKind.allCases.map {
            Counter(label: "voltwatch_anomalies_by_kind_total", dimensions: [("kind", $0.rawValue)], factory: factory)
        }
        anomalies = Counter(label: "voltwatch_anomalies_total", factory: factory)
        messagesDropped = Counter(label: "voltwatch_client_messages_dropped_total", factory: factory)
        messagesSent = Counter(label: "voltwatch_client_messages_sent_total", factory: factory)
        clientsDisconnectedSlow = Counter(label: "voltwatch_clients_disconnected_slow_total", factory: factory)
        clients = [
            .webSocket: Meter(label: "voltwatch_clients", dimensions: [("endpoint", "ws")], factory: factory),
            .socketIO: Meter(label: "voltwatch_clients", dimensions: [("endpoint", "socket.io")], factory: factory),
        ]
        scorerDuration = Timer(label: VoltServerMetrics.scorerDurationLabel, factory: factory)
    }

    private func makeDevice(_ device: String) -> DeviceMetrics {
        let d = [("device", device)]
        var invalid: [RejectionReason: Counter] = [:]
        for reason in RejectionReason.allCases {
            invalid[reason] = Counter(label: "voltwatch_invalid_lines_total",
                dimensions: d + [("reason", "\(reason)")], factory: factory)
        }
        return DeviceMetrics(
            results: Counter(label: "voltwatch_results_total", dimensions: d, factory: factory),
            frames: Counter(label: "voltwatch_frames_total", dimensions: d, factory: factory),
            lost: Counter(label: "voltwatch_lost_frames_total", dimensions: d, factory: factory),
            invalid: invalid)
    }

    /// One scored sample.
    func recordResult(device: String, _ result: ScoredResult) {
        let counter = devices.withLock { devices -> Counter in
            if let m = devices[device] { return m.results }
            let m = makeDevice(device)
            devices[device] = m
            return m.results
        }
        counter.increment()
        guard result.isAnomaly else { return }
        anomalies.increment()
        for (i, kind) in AnomalyKind.allCases.enumerated() where result.kinds.contains(kind) {
            anomaliesByKind[i].increment()
        }
    }

    /// A device's cumulative stream counters.
    func recordCounters(device: String, _ counters: StreamCounters) {
        devices.withLock { devices in
            var m = devices[device] ?? makeDevice(device)
            func delta(_ new: Int, _ old: Int) -> Int { new >= old ? new - old : new }
            m.frames.increment(by: delta(counters.frames, m.last.frames))
            m.lost.increment(by: delta(counters.lost, m.last.lost))
            for reason in RejectionReason.allCases {
                m.invalid[reason]?.increment(by: delta(counters.invalid[reason], m.last.invalid[reason]))
            }
            m.last = counters
            devices[device] = m
        }
    }
}
