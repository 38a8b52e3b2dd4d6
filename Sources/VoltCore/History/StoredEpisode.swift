/// An alarm episode as history keeps it: the episode, whose stream it was, and the reading at
/// its peak, in the stream's unit.
public struct StoredEpisode: Sendable, Equatable {
    public var stream: String
    public var episode: AlarmEpisode
    /// The value of the result with the highest score, in ``unit``; nil before one was seen.
    public var peakValue: Double?
    public var peakSeverity: Severity

    public init(stream: String, episode: AlarmEpisode, peakValue: Double?, peakSeverity: Severity) {
        self.stream = stream
        self.episode = episode
        self.peakValue = peakValue
        self.peakSeverity = peakSeverity
    }
}

/// What history knows of a stream beside its values: its name and unit (from its results) and
/// when it was first and last heard, epoch milliseconds.
public struct StreamInfo: Sendable, Equatable {
    public var stream: String
    public var name: String?
    public var unit: String
    public var firstMs: Int64
    public var lastMs: Int64

    public init(stream: String, name: String?, unit: String, firstMs: Int64, lastMs: Int64) {
        self.stream = stream
        self.name = name
        self.unit = unit
        self.firstMs = firstMs
        self.lastMs = lastMs
    }
}

/// One point of a history query: a bucket of `step` seconds from `startMs`.
public struct HistoryPoint: Sendable, Equatable {
    public var startMs: Int64
    public var aggregate: Aggregate

    public init(startMs: Int64, aggregate: Aggregate) {
        self.startMs = startMs
        self.aggregate = aggregate
    }
}
