/// Groups one device's results into ``AlarmEpisode``s. Pure: feed it results in order, it
/// says what changed; no clock, no I/O, constant memory (one open episode).
public struct EpisodeTracker: Sendable {
    /// What one result did to the episodes.
    public enum Change: Sendable, Equatable {
        /// A normal result with no episode open.
        case none
        /// The result started this episode.
        case opened(AlarmEpisode)
        /// The result extended this (open) episode.
        case extended(AlarmEpisode)
        /// A normal result ended this episode (the result itself belongs to none).
        case closed(AlarmEpisode)

        /// The episode the change is about, if any.
        public var episode: AlarmEpisode? {
            switch self {
            case .none: nil
            case .opened(let e), .extended(let e), .closed(let e): e
            }
        }
    }

    /// The episode in progress, if the last result was anomalous.
    public private(set) var current: AlarmEpisode?
    private var nextID: UInt64

    /// `firstID`: the id the first episode gets. A caller that replaces a device's stream
    /// (a reconnect) can continue the numbering so ids stay unique per device.
    public init(firstID: UInt64 = 1) {
        nextID = firstID
    }

    /// The id the next episode will get.
    public var upcomingID: UInt64 { nextID }

    /// Takes the next result of the device; sets `result.episode` to the episode it belongs
    /// to (nil for a normal result).
    public mutating func observe(_ result: inout ScoredResult) -> Change {
        guard result.isAnomaly else {
            result.episode = nil
            return close()
        }
        if var episode = current {
            episode.endMs = result.timestampMs
            episode.peakScore = max(episode.peakScore, result.anomalyScore)
            episode.samples += 1
            absorb(result, into: &episode)
            current = episode
            result.episode = episode.id
            return .extended(episode)
        }
        var episode = AlarmEpisode(
            id: nextID, startMs: result.timestampMs, endMs: result.timestampMs, peakScore: result.anomalyScore,
            kinds: [], reasons: [], samples: 1, isOpen: true)
        nextID += 1
        absorb(result, into: &episode)
        current = episode
        result.episode = episode.id
        return .opened(episode)
    }

    /// The stream has been silent for longer than the dropout timeout. A dropout is a fault
    /// that is a state, and a person should hear of it while it lasts, not when the line comes
    /// back: this opens an episode at `startMs` (the last sample's time plus the timeout) before
    /// any result says so, with no samples yet and `score` (the threshold) as its peak, or adds
    /// the dropout to the episode in progress. The sample that ends the silence (a dropout
    /// itself) extends it; the first normal result after that closes it.
    public mutating func openSilence(atMs startMs: Int64, score: Double, reason: String) -> Change {
        if var episode = current {
            guard !episode.kinds.contains(.dropout) else { return .none }
            episode.kinds.insert(.dropout)
            episode.reasons.append(reason)
            current = episode
            return .extended(episode)
        }
        let episode = AlarmEpisode(
            id: nextID, startMs: startMs, endMs: startMs, peakScore: score,
            kinds: [.dropout], reasons: [reason], samples: 0, isOpen: true)
        nextID += 1
        current = episode
        return .opened(episode)
    }

    /// Ends the open episode, if any, without a normal result: the board rebooted or the
    /// configuration changed, and what follows is judged afresh.
    public mutating func close() -> Change {
        guard var episode = current else { return .none }
        episode.isOpen = false
        current = nil
        return .closed(episode)
    }

    private func absorb(_ result: ScoredResult, into episode: inout AlarmEpisode) {
        if episode.reasons.isEmpty && result.kinds.isEmpty, let first = result.reasons.first {
            // An alarm under a lowered threshold that no detector is certain of still says why.
            episode.reasons.append(first)
        }
        let new = AnomalyKinds(rawValue: result.kinds.rawValue & ~episode.kinds.rawValue)
        guard !new.isEmpty else { return }
        // Every reason starts with its kind's name ("spike: ..."); keep the first per new kind.
        for reason in result.reasons {
            guard let colon = reason.firstIndex(of: ":"),
                  let kind = AnomalyKind(rawValue: String(reason[..<colon])), new.contains(kind) else { continue }
            episode.reasons.append(reason)
        }
        episode.kinds.formUnion(result.kinds)
    }
}
