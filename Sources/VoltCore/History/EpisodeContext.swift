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
    private var following: [UInt64: (points: [Point], endedAtMs: Int64?)] = [:]
    private var ready: [(episode: UInt64, points: [Point])] = []

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
            following[episode] = (Array(recent.suffix(maxPoints)), nil)
            opened = episode
        }
        for id in Array(following.keys) where id != opened {
            var entry = following[id]!
            if id != episode, entry.endedAtMs == nil { entry.endedAtMs = point.atMs }
            if let ended = entry.endedAtMs, point.atMs - ended > afterMs {
                ready.append((id, entry.points))
                following[id] = nil
                continue
            }
            if entry.points.count < maxPoints { entry.points.append(point) }
            following[id] = entry
        }
    }

    /// Episodes whose context is complete, to store; each is handed out once.
    public mutating func takeReady() -> [(episode: UInt64, points: [Point])] {
        defer { ready.removeAll() }
        return ready
    }

    /// Everything still being followed, as it is now (at shutdown, so nothing is lost).
    public mutating func takeAll() -> [(episode: UInt64, points: [Point])] {
        let all = ready + following.map { ($0.key, $0.value.points) }
        ready.removeAll()
        following.removeAll()
        return all
    }
}
