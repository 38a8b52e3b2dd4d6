import CoreMetrics
public import Prometheus
import Synchronization

/// Process-wide metrics set-up for the executable, and the names every part records under.
///
/// `MetricsSystem.bootstrap` may run once per process, so only the executable calls
/// ``bootstrap()``; the server itself records through the factory it is given (or a private
/// one), which is what lets tests run many servers in one process without a global.
public enum VoltServerMetrics {
    /// Scorer time per sample, seconds. The serial reader records under this label too
    /// (`Timer(label: VoltServerMetrics.scorerDurationLabel)`), so after ``bootstrap()`` both
    /// the live path and `voltage_data` land in one histogram.
    public static let scorerDurationLabel = "voltwatch_scorer_duration_seconds"

    private static let shared = Mutex<PrometheusCollectorRegistry?>(nil)

    /// A Prometheus factory on `registry` with histogram buckets that suit microsecond timings.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[scorerDurationLabel] = [
            .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10), .microseconds(25),
            .microseconds(50), .microseconds(100), .microseconds(250), .milliseconds(1), .milliseconds(10),
        ]
        return factory
    }

    /// Bootstraps swift-metrics with a Prometheus registry and returns it; call once, from the
    /// executable, before the agent starts. Later calls return the same registry.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        shared.withLock { shared in
            if let shared { return shared }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(makeFactory(registry: registry))
            shared = registry
            return registry
        }
    }

    /// The registry ``bootstrap()`` installed, if it ran.
    public static var bootstrappedRegistry: PrometheusCollectorRegistry? { shared.withLock { $0 } }
}
