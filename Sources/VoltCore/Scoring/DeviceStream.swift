/// Everything one device's lines go through: parse, count, score.
///
/// The live reader and `replay` both drive a `DeviceStream` line by line, so identical lines
/// with identical receive times give identical results whichever way they arrive.
public struct DeviceStream: Sendable {
    /// What one line turned into.
    public enum Output: Sendable, Equatable {
        case result(ScoredResult)
        case hello(Hello)
        case rejected(LineRejection)
    }

    /// The device id results are published under.
    public let device: String
    public private(set) var counters = StreamCounters()
    /// The board's last `$HELLO`, if it sent one.
    public private(set) var hello: Hello?
    public private(set) var scorer: Scorer
    /// Groups this device's anomalous results into alarm episodes.
    public private(set) var episodes: EpisodeTracker
    /// What the last scored sample (or the last `$HELLO` / reload) did to the episodes: a
    /// server keeping a list of episodes upserts ``EpisodeTracker/Change/episode`` by id.
    public private(set) var lastEpisodeChange: EpisodeTracker.Change = .none

    /// `firstEpisodeID`: where alarm episode ids start (1 for a new device; pass the old
    /// stream's `episodes.upcomingID` when replacing a stream, so ids stay unique per device).
    public init(device: String, config: ModelConfig, firstEpisodeID: UInt64 = 1) {
        self.device = device
        self.episodes = EpisodeTracker(firstID: firstEpisodeID)
        self.scorer = Scorer(config: config)
    }

    public var config: ModelConfig { scorer.config }

    /// Parses and scores one line (terminator removed).
    public mutating func ingest(line: UnsafeBufferPointer<UInt8>, receivedAtMs: Int64) -> Output {
        let frame: Frame
        do {
            frame = try FrameParser.parse(line)
        } catch {
            counters.invalid[error.reason] += 1
            return .rejected(error)
        }
        return ingest(frame: frame, receivedAtMs: receivedAtMs)
    }

    /// Scores an already parsed frame.
    public mutating func ingest(frame: Frame, receivedAtMs: Int64) -> Output {
        counters.lastReceivedMs = receivedAtMs
        switch frame {
        case .volt(let volt):
            return .result(ingest(sample: Sample(volt, receivedAtMs: receivedAtMs)))
        case .legacy(let volts):
            return .result(ingest(sample: Sample(volts: volts, receivedAtMs: receivedAtMs)))
        case .hello(let hello):
            counters.hellos += 1
            self.hello = hello
            // The board rebooted: its seq and uptime start again, which is not frame loss.
            scorer.restart()
            lastEpisodeChange = episodes.close()
            return .hello(hello)
        }
    }

    public mutating func ingest(line: String, receivedAtMs: Int64) -> Output {
        var copy = line
        return copy.withUTF8 { ingest(line: $0, receivedAtMs: receivedAtMs) }
    }

    /// Scores a sample that did not come as a line (CSV rows, a phone's `voltage_data`).
    public mutating func ingest(sample: Sample) -> ScoredResult {
        counters.frames += 1
        counters.lastReceivedMs = sample.receivedAtMs
        var result = scorer.score(sample)
        lastEpisodeChange = episodes.observe(&result)
        counters.lost = scorer.lostFrames
        if result.isAnomaly { counters.anomalies += 1 }
        return result
    }

    /// Counts lines refused before parsing: the partial first line after a port opens (a
    /// tail of a frame the board was already sending) is `.syntax`.
    public mutating func countRejected(_ reason: RejectionReason, _ lines: Int = 1) {
        counters.invalid[reason] += lines
    }

    /// Counts lines the framer dropped as over-long (they never reach ``ingest(line:receivedAtMs:)``).
    public mutating func countOverlong(_ lines: Int) {
        counters.invalid.tooLong += lines
    }

    /// Applies a reloaded configuration. The windows start again: statistics gathered under
    /// another window size or rate would mislead the new detectors.
    public mutating func apply(_ config: ModelConfig) {
        scorer = Scorer(config: config)
        lastEpisodeChange = episodes.close()
    }
}
