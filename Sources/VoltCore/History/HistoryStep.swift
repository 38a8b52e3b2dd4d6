/// The resolution of a history query: a chart wants about as many points as it has pixels,
/// not a row per second of a week.
public enum HistoryStep {
    /// Steps offered, seconds: each a whole number of the previous coarse ones, so buckets line
    /// up on clock boundaries.
    public static let choices: [Int64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200,
                                           21_600, 43_200, 86_400]
    /// Most points a query returns when it does not name a step.
    public static let maxPoints: Int64 = 2_000

    /// The smallest offered step that keeps `[from, to)` within ``maxPoints`` points.
    public static func automatic(fromMs: Int64, toMs: Int64) -> Int64 {
        let span = max(0, toMs - fromMs)
        for step in choices where span <= step * 1_000 * maxPoints { return step }
        return choices.last!
    }
}
