/// What happened to a stream over a window, in plain sentences, made from its stored history
/// (per-minute aggregates and alarm episodes) by rules, not a language model:
/// "House battery: 3 dips (02:10 to 02:40, lowest 11.62 V); drifting up 0.31 V/h; no dropouts."
///
/// Pure: the caller reads the store and passes the local time offset for the clock times.
public enum HistorySummary {
    /// One stream's summary: a sentence per fact, and the facts the sentences came from.
    public struct Stream: Sendable, Equatable {
        public var stream: String
        public var name: String?
        public var unit: String
        public var sentence: String
        public var samples: Int
        public var episodes: Int
    }

    /// `points`: the stream's per-minute (or coarser) aggregates over the window, oldest first;
    /// `episodes`: its episodes overlapping the window, any order. `utcOffsetSeconds` turns
    /// epoch times into the gateway's clock times.
    public static func summarize(info: StreamInfo, points: [HistoryPoint], episodes: [StoredEpisode],
                                 windowMs: Int64, utcOffsetSeconds: Int) -> Stream {
        let label = info.name ?? info.stream
        let unit = info.unit
        let samples = points.reduce(0) { $0 + $1.aggregate.count }
        guard samples > 0 || !episodes.isEmpty else {
            return Stream(stream: info.stream, name: info.name, unit: unit,
                          sentence: "\(label): no data in the last \(duration(windowMs)).", samples: 0, episodes: 0)
        }
        var facts: [String] = []
        // Alarms, grouped by their main kind, oldest first.
        var byKind: [AnomalyKind: [StoredEpisode]] = [:]
        for episode in episodes {
            let kind = AnomalyKind.allCases.first { episode.episode.kinds.contains($0) } ?? .spike
            byKind[kind, default: []].append(episode)
        }
        for kind in AnomalyKind.allCases {
            guard let list = byKind[kind]?.sorted(by: { $0.episode.startMs < $1.episode.startMs }), !list.isEmpty else { continue }
            let first = clock(list.first!.episode.startMs, offset: utcOffsetSeconds)
            let last = clock(list.last!.episode.endMs, offset: utcOffsetSeconds)
            var text = list.count == 1 ? "1 \(noun(kind, plural: false))" : "\(list.count) \(noun(kind, plural: true))"
            text += list.count == 1 ? " at \(first)" : " between \(first) and \(last)"
            let peaks = list.compactMap(\.peakValue)
            if let extreme = (kind == .dip || kind == .dropout ? peaks.min() : peaks.max()), kind != .dropout, kind != .lostFrames {
                text += " (\(kind == .dip ? "lowest" : "peak") \(FixedPoint.format(extreme, digits: 2)) \(unit))"
            }
            facts.append(text)
        }
        // The level: steady, or drifting, judged on the minute means.
        let means = points.filter { $0.aggregate.count > 0 }.map { (Double($0.startMs) / 3_600_000, $0.aggregate.mean) }
        if let low = points.map(\.aggregate.min).min(), let high = points.map(\.aggregate.max).max(), means.count >= 3 {
            let slope = trend(means)
            let change = abs(slope) * (means.last!.0 - means.first!.0)
            let spread = Swift.max(high - low, 1e-9)
            let mean = means.map(\.1).reduce(0, +) / Double(means.count)
            if change > 0.25 * spread && change > 1e-9 {
                facts.append("drifting \(slope > 0 ? "up" : "down") \(FixedPoint.format(abs(slope), digits: 2)) \(unit)/h")
            } else {
                facts.append("steady around \(FixedPoint.format(mean, digits: 2)) \(unit) (\(FixedPoint.format(low, digits: 2)) to \(FixedPoint.format(high, digits: 2)))")
            }
        }
        if episodes.isEmpty { facts.append("no alarms") }
        if byKind[.dropout] == nil && !episodes.isEmpty { facts.append("no dropouts") }
        let sentence = "\(label): " + facts.joined(separator: "; ") + "."
        return Stream(stream: info.stream, name: info.name, unit: unit, sentence: sentence, samples: samples, episodes: episodes.count)
    }

    /// Least-squares slope of (hours, value) pairs, per hour.
    static func trend(_ points: [(Double, Double)]) -> Double {
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n, my = points.map(\.1).reduce(0, +) / n
        var num = 0.0, den = 0.0
        for (x, y) in points { num += (x - mx) * (y - my); den += (x - mx) * (x - mx) }
        return den > 0 ? num / den : 0
    }

    static func noun(_ kind: AnomalyKind, plural: Bool) -> String {
        let singular: String
        switch kind {
        case .levelShift: singular = "level shift"
        case .outOfRange: singular = "out-of-range reading"
        case .lostFrames: singular = "loss of frames"
        case .stuck: singular = "stuck reading"
        case .noise: singular = "noise burst"
        default: singular = kind.rawValue
        }
        guard plural else { return singular }
        switch kind {
        case .lostFrames: return "losses of frames"
        case .oscillation: return "oscillations"
        default: return singular + "s"
        }
    }

    /// `HH:MM` at the gateway's clock.
    static func clock(_ ms: Int64, offset: Int) -> String {
        let minutes = ((ms / 1_000 + Int64(offset)) / 60 % 1_440 + 1_440) % 1_440
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }

    /// `24 h`, `90 min`, `7 days`.
    public static func duration(_ ms: Int64) -> String {
        let minutes = ms / 60_000
        if minutes < 120 { return "\(minutes) min" }
        if minutes < 2 * 1_440 { return "\(minutes / 60) h" }
        return "\(minutes / 1_440) days"
    }

    /// Parses `90m`, `24h`, `7d`, `3600s` (or a bare number of seconds); nil when it is not one.
    public static func window(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let unit: Int64
        var digits = Substring(text)
        switch last {
        case "s": unit = 1_000; digits = digits.dropLast()
        case "m": unit = 60_000; digits = digits.dropLast()
        case "h": unit = 3_600_000; digits = digits.dropLast()
        case "d": unit = 86_400_000; digits = digits.dropLast()
        default: unit = 1_000
        }
        guard let n = Int64(digits), n > 0, n <= 10_000 * 86_400_000 / unit else { return nil }
        return n * unit
    }
}
