import CoreMetrics
import Synchronization
import VoltCore

/// The scorers for `voltage_data`: the original backend's way to test without an Arduino,
/// where an app sends samples of its own and gets each one scored back.
///
/// Every client gets scorers of its own (``AppStreams``), one per app-given `device` name, so
/// one phone's samples never shape another's scores; they are created on first use and freed
/// when the client leaves. App results go to their sender only and are kept out of the
/// devices' history, status, anomaly list and per-device metrics: they are tests, not
/// readings of a device. This object holds what the clients share: the cap on live scorers
/// (each holds a few fixed-size windows, tens of kilobytes) and the app counters.
final class AppScorers: Sendable {
    /// Most scorers alive at once across all clients.
    let limit: Int
    /// Most scorers one client may have (one per `device` name it uses).
    let perClientLimit: Int
    private let live = Atomic<Int>(0)
    private let hub: Hub
    let results: Counter
    let anomalies: Counter

    init(hub: Hub, limit: Int, perClientLimit: Int = 8, metricsFactory: any MetricsFactory) {
        self.hub = hub
        self.limit = limit
        self.perClientLimit = perClientLimit
        results = Counter(label: "voltwatch_app_results_total", factory: metricsFactory)
        anomalies = Counter(label: "voltwatch_app_anomalies_total", factory: metricsFactory)
    }

    /// Scorers alive now.
    var count: Int { live.load(ordering: .relaxed) }

    /// The configuration app streams start from: the agent's, followed on reload.
    var modelConfig: ModelConfig { hub.modelConfig }

    /// Takes a place for a new scorer; false at ``limit``.
    func reserve() -> Bool {
        var current = live.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = live.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release(_ n: Int) {
        guard n > 0 else { return }
        live.subtract(n, ordering: .relaxed)
    }

    func recordScoring(nanoseconds: Int64, _ result: ScoredResult) {
        hub.metrics.scorerDuration.recordNanoseconds(nanoseconds)
        results.increment()
        if result.isAnomaly { anomalies.increment() }
    }
}
