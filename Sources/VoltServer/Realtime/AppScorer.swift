import CoreMetrics
import Synchronization
import VoltCore

/// Scores the samples apps send with `voltage_data`, as device `app`: the original backend's
/// testing-without-Arduino path. One stream for all apps, as the original had one model.
final class AppScorer: Sendable {
    static let device = "app"
    private let stream: Mutex<DeviceStream>
    private let hub: Hub

    init(hub: Hub) {
        self.hub = hub
        self.stream = Mutex(DeviceStream(device: Self.device, config: hub.modelConfig))
    }

    /// Scores one sample and returns the `anomaly_result` data JSON.
    func score(volts: Double, timestampMs: Int64?) -> String {
        let sample = Sample(volts: volts, receivedAtMs: timestampMs ?? Now.epochMs)
        let start = ContinuousClock.now
        let config = hub.modelConfig
        let result = stream.withLock { stream in
            // Follow a reloaded configuration, as the serial devices do.
            if stream.config != config { stream.apply(config) }
            return stream.ingest(sample: sample)
        }
        hub.metrics.scorerDuration.recordNanoseconds(Int64((ContinuousClock.now - start).nanoseconds))
        let json = ResultEncoder.json(result, device: Self.device)
        hub.recordAppResult(result, json: json)
        return json
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
