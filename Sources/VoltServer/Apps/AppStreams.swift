import VoltCore

/// One client's app scorers, one per `device` name it sends (none given: plain `app`).
///
/// Owned by the client's connection (or polling session) and touched only by it; when the
/// client goes, so does this object, and its places under ``AppScorers/limit`` are given back.
final class AppStreams {
    private let shared: AppScorers
    private var streams: [String: AppStream] = [:]

    init(shared: AppScorers) {
        self.shared = shared
    }

    deinit {
        shared.release(streams.count)
    }

    /// Scorers this client holds.
    var count: Int { streams.count }

    /// Scores one `voltage_data` sample: the `anomaly_result` data JSON, or an error message
    /// for the client when no scorer may be created for it.
    ///
    /// - Parameters:
    ///   - timestampMs: the app's own time for the sample, epoch milliseconds, if it sent one.
    ///   - nowMs: the server's clock, epoch milliseconds, for samples without a time.
    func score(volts: Double, timestampMs: Int64?, device: String?, nowMs: Int64) -> Result<String, AppScoringRefusal> {
        let key = device ?? ""
        let config = shared.modelConfig
        if streams[key] == nil {
            guard streams.count < shared.perClientLimit else {
                return .failure(.tooManyNames(shared.perClientLimit))
            }
            guard shared.reserve() else { return .failure(.tooManyScorers(shared.limit)) }
            let name = device.map { "app:" + $0 } ?? "app"
            streams[key] = AppStream(name: name, base: config, timed: timestampMs != nil)
        }
        let start = ContinuousClock.now
        let (result, name) = streams[key]!.score(volts: volts, timestampMs: timestampMs, nowMs: nowMs, config: config)
        let elapsed = (ContinuousClock.now - start).components
        shared.recordScoring(nanoseconds: elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000, result)
        return .success(ResultEncoder.json(result, device: name))
    }
}

/// Why a `voltage_data` sample was not scored; told to the client in an `error` event.
enum AppScoringRefusal: Error, Equatable, CustomStringConvertible {
    case tooManyScorers(Int)
    case tooManyNames(Int)

    var description: String {
        switch self {
        case .tooManyScorers(let limit):
            "voltage_data: all \(limit) app scorers are in use by other clients: try again when one leaves"
        case .tooManyNames(let limit):
            "voltage_data: one client may score at most \(limit) device names: reuse one of yours"
        }
    }
}
