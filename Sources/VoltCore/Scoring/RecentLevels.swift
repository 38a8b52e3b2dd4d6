/// Where a signal's level has been lately, and whether an edge is going back there.
///
/// A passing cloud takes a share of the light and gives it back; on a panel's first day every
/// hour's biggest cloud edge is a record, so the sun's return would be news all day. An edge
/// that goes back to a level the signal held in the last ``horizonSeconds`` is not news,
/// whatever its size: the edge that left that level was judged when it came. Only a slow edge
/// (more than half of it built before the last three samples): faults arrive as jumps (a
/// contact, a short, a glitch) and are judged as before.
///
/// An edge held back may carry on beyond the levels held lately (a cloud deeper than any in
/// the last half hour, a battery sagging below its usual range). By then the detector's window
/// has spread with the edge and it no longer reads as a spike, so the certainty held back is
/// told when the edge leaves those levels, within a window of the last sample held back. Used
/// by ``SpikeDetector``, with the window's median as the level.
struct RecentLevels: Sendable {
    /// How far back an edge may find the level it goes back to. Light comes back after a cloud
    /// of seconds to many minutes; a half hour is also how far back ``DriftDetector`` looks
    /// for the usual wander.
    static let horizonSeconds = 1_800.0
    /// What going back scores: below certainty, as a habit does.
    static let certainty = 0.9

    private var levels: RecentRange
    /// Samples an edge held back has to carry on beyond the levels (a detector window).
    private let carrySamples: Int
    /// How far from the median a spike is, in MADs: beyond the levels means by that many MADs
    /// as well as by a quarter of the edge (as going back is within a quarter), so light that
    /// comes back a little higher than it left (the sun rose meanwhile) is not news.
    private let spikeMADs: Double
    /// The edge held back, while it may still carry on beyond the levels.
    private var held: Held?

    private struct Held {
        /// The highest certainty held back.
        var certainty: Double
        /// The edge at its largest held back, in the signal's unit and in MADs.
        var size: Double
        var deviations: Double
        /// The largest MAD it was measured in.
        var mad: Double
        var up: Bool
        /// Samples left for it to carry on beyond the levels.
        var samplesLeft: Int
    }

    /// An edge judged beyond the levels held lately.
    struct Beyond {
        /// The levels it left.
        let levels: ClosedRange<Double>
        /// The edge's size in MADs when it was held back.
        let deviations: Double
    }

    init(sampleRate: Double, carrySamples: Int, spikeMADs: Double) {
        levels = RecentRange(horizon: Int((RecentLevels.horizonSeconds * sampleRate).rounded()))
        self.carrySamples = carrySamples
        self.spikeMADs = spikeMADs
    }

    /// Notes the signal's level (a window's median) for this sample.
    mutating func add(_ level: Double) {
        levels.add(level)
    }

    /// The certainty of `x`, which deviates from `median` in MADs of `mad` and which the
    /// detector judged `c`.
    ///
    /// - `startsExcursion`: no alarm of the detector is in progress (on the plateau after a
    ///   jump the last samples are close to this one too, and the jump was judged).
    /// - `before`: the sample three samples ago, if any.
    ///
    /// Returns the certainty, and where the edge went beyond the levels if that is news now.
    mutating func judge(_ c: Double, x: Double, median: Double, mad: Double,
                        startsExcursion: Bool, before: Double?) -> (certainty: Double, beyond: Beyond?) {
        if var h = held {
            h.samplesLeft -= 1
            held = h.samplesLeft < 0 ? nil : h
        }
        let edge = abs(x - median)
        if c >= 1, startsExcursion, let before, 2 * abs(x - before) < edge, levels.contains(x, margin: 0.25 * edge) {
            let h = held
            held = Held(certainty: max(h?.certainty ?? 0, c), size: max(h?.size ?? 0, edge),
                        deviations: max(h?.deviations ?? 0, edge / mad), mad: max(h?.mad ?? 0, mad),
                        up: x > median, samplesLeft: carrySamples)
            return (RecentLevels.certainty, nil)
        }
        guard let h = held, (x > median) == h.up, let bounds = levels.bounds else { return (c, nil) }
        let bar = max(0.25 * h.size, spikeMADs * h.mad)
        guard h.up ? x > bounds.upperBound + bar : x < bounds.lowerBound - bar else { return (c, nil) }
        held = nil
        return (max(c, h.certainty), Beyond(levels: bounds, deviations: h.deviations))
    }
}
