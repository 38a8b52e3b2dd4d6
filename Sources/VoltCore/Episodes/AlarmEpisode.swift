/// One alarm of one device: a run of consecutive anomalous results.
///
/// People (and phones) want "the battery sagged at 14:02 for 40 s", not forty rows: an
/// episode starts at the first anomalous result (or when a silence became a dropout, before
/// any result), grows with each following one, and closes at the first normal result (or a
/// `$HELLO`, or a configuration reload). Every result that belongs to it carries its ``id``
/// in the `episode` field of DESIGN.md's `anomaly_result`.
public struct AlarmEpisode: Sendable, Equatable {
    /// 1, 2, 3, ... per device stream, in order of onset; never reused while the stream lives.
    public let id: UInt64
    /// Timestamp of the first anomalous result, milliseconds since the epoch; for an episode a
    /// silence opened (``EpisodeTracker/openSilence(atMs:score:reason:)``), the moment the
    /// silence became a dropout.
    public let startMs: Int64
    /// Timestamp of the latest anomalous result so far (the last one, once closed).
    public internal(set) var endMs: Int64
    /// The highest `anomaly_score` of its results.
    public internal(set) var peakScore: Double
    /// Every kind any of its results named.
    public internal(set) var kinds: AnomalyKinds
    /// The first reason given for each kind, in the order the kinds first appeared (at most
    /// one per kind, so an hour-long fault holds a handful of strings, not thousands).
    public internal(set) var reasons: [String]
    /// Anomalous results in it: 0 for an episode a silence opened, until the line comes back.
    public internal(set) var samples: Int
    /// False once a normal result (or a restart) ended it.
    public internal(set) var isOpen: Bool

    public init(
        id: UInt64, startMs: Int64, endMs: Int64, peakScore: Double, kinds: AnomalyKinds,
        reasons: [String], samples: Int, isOpen: Bool
    ) {
        self.id = id
        self.startMs = startMs
        self.endMs = endMs
        self.peakScore = peakScore
        self.kinds = kinds
        self.reasons = reasons
        self.samples = samples
        self.isOpen = isOpen
    }

    /// The same episode, ended where it stands (a reload or shutdown ended it with no normal
    /// result to say so).
    public func ended() -> AlarmEpisode {
        var copy = self
        copy.isOpen = false
        return copy
    }

    /// Length from first to last anomalous result, milliseconds.
    public var durationMs: Int64 { endMs - startMs }
}
