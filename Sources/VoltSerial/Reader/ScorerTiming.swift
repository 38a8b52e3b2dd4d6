public import CoreMetrics
public import VoltCore

/// Records how long scoring one sample takes into the histogram `/metrics` shows.
///
/// The label is the server's (`VoltServerMetrics.scorerDurationLabel`, which VoltSerial cannot
/// import), so once the executable bootstraps swift-metrics the live path and the phones'
/// `voltage_data` land in one histogram. Timing costs two monotonic clock reads and one
/// histogram update (well under a microsecond, against a 100 ms sample period); ``every``
/// times only every Nth sample for sources much faster than a board.
public struct ScorerTiming: Sendable {
    /// Must equal `VoltServerMetrics.scorerDurationLabel` (tests/service checks `/metrics`).
    public static let label = "voltwatch_scorer_duration_seconds"

    let timer: Timer
    /// Time one sample in this many.
    public let every: Int
    private var countdown = 1

    public init(every: Int = 1, factory: any MetricsFactory = MetricsSystem.factory) {
        self.timer = Timer(label: Self.label, factory: factory)
        self.every = max(1, every)
    }

    /// Runs `body` (parse and score one line), timing it when this sample's turn has come.
    /// Only lines that became a scored sample count: a rejected line or a `$HELLO` is not a
    /// sample.
    @inline(__always)
    public mutating func measure(_ body: () -> DeviceStream.Output) -> DeviceStream.Output {
        guard countdown <= 1 else {
            let output = body()
            if case .result = output { countdown -= 1 }
            return output
        }
        let start = MonotonicTime.nanoseconds()
        let output = body()
        if case .result = output {
            timer.recordNanoseconds(MonotonicTime.nanoseconds() - start)
            countdown = every
        }
        return output
    }
}
