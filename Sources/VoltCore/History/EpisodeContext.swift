/// Keeps a stream's recent samples so an alarm can be stored with the signal around it: the
/// `before` milliseconds ahead of its onset and, once it ends, `after` milliseconds past its
/// end. Pure and bounded: a ring of recent samples per stream, and the samples of episodes
/// still being followed.
public struct EpisodeContext: Sendable {
    /// One sample as a chart of the episode needs it.
    public struct Point: Sendable, Equatable {
        public var atMs: Int64
        public var value: Double
        public var score: Double
        public var anomaly: Bool

        public init(atMs: Int64, value: Double, score: Double, anomaly: Bool) {
            self.atMs = atMs
            self.value = value
            self.score = score
            self.anomaly = anomaly
        }
    }

    public let beforeMs: Int64
    public let afterMs: Int64
    /// Most points kept for one episode (an hour-long fault keeps its first ones, then stops).
    public let maxPoints: Int
    private var recent: [Point] = []

    /// An episode being followed: points not yet handed out, how many it has had, and when it
    /// ended (then `afterMs` more are kept, and it is done).
    private struct Follow: Sendable {
        var pending: [Point]
        var kept: Int
        var endedAtMs: Int64?
        var done = false
    }

    private var following: [UInt64: Follow] = [:]

    public init(beforeMs: Int64 = 30_000, afterMs: Int64 = 30_000, maxPoints: Int = 3_000) {
        self.beforeMs = beforeMs
        self.afterMs = afterMs
        self.maxPoints = maxPoints
    }

    /// Takes the stream's next result.
    public mutating func observe(_ point: Point, episode: UInt64?) {
        recent.append(point)
        let horizon = point.atMs - beforeMs
        if let first = recent.first, first.atMs < horizon {
            recent.removeFirst(recent.firstIndex { $0.atMs >= horizon } ?? recent.count)
        }
        var opened: UInt64?
        if let episode, following[episode] == nil {
            let before = Array(recent.suffix(maxPoints))
            following[episode] = Follow(pending: before, kept: before.count)
            opened = episode
        }
        for id in Array(following.keys) where id != opened {
            var entry = following[id]!
            if entry.done { continue }
            if id != episode, entry.endedAtMs == nil { entry.endedAtMs = point.atMs }
            if let ended = entry.endedAtMs, point.atMs - ended > afterMs {
                entry.done = true
            } else if entry.kept < maxPoints {
                entry.pending.append(point)
                entry.kept += 1
            }
            following[id] = entry
        }
    }

    /// The points gathered since the last call, per episode, so an alarm's chart can be drawn
    /// while it is still going on; episodes whose context is complete are then forgotten.
    public mutating func takeNew() -> [(episode: UInt64, points: [Point])] {
        var out: [(episode: UInt64, points: [Point])] = []
        for id in following.keys.sorted() {
            var entry = following[id]!
            if !entry.pending.isEmpty {
                out.append((id, entry.pending))
                entry.pending.removeAll()
            }
            following[id] = entry.done ? nil : entry
        }
        return out
    }

    /// Episodes still followed.
    public var followedCount: Int { following.count }
}
