/// Dropouts (a silence longer than the timeout) and lost frames (a forward jump in `seq`).
///
/// Both are faults that are states: every silence alarms, the hundredth of a flaky cable as
/// much as the first. What rarity changes is only how far above the threshold a silence
/// scores: one as long as the signal's routine gaps (a logger that pauses every night) scores
/// just above it, one longer by half than any before scores high.
struct GapDetector: Sendable {
    private var lastTimeMs: Int64?
    private var lastSeq: UInt32?
    private(set) var lostFrames = 0
    private let timeoutMs: Double
    private let enabled: AnomalyKinds
    /// Gap / timeout, learnt on every sample.
    private var rarity: Rarity
    private let rarityDecades: Double
    /// The longest silence so far, in timeouts.
    private var longestGap = 0.0

    init(config: ModelConfig) {
        rarity = Rarity(config: config)
        rarityDecades = config.rarityBarDecades
        timeoutMs = config.dropoutTimeoutMs
        enabled = config.enabledKinds
    }

    /// The board rebooted: its `seq` starts again at 0, which is not frame loss.
    mutating func restart() { lastSeq = nil }

    mutating func observe(_ sample: Sample, into verdict: inout Verdict) {
        let t = sample.receivedAtMs
        if let lastTimeMs, enabled.contains(.dropout) {
            let gap = Double(t - lastTimeMs)
            let timeout = timeoutMs
            let raw = gap / timeout
            if gap > timeout {
                let news = min(1, max(0.001, rarity.surprise(raw, assumedHistory: Rarity.assumedHistory(decades: rarityDecades)) / rarityDecades))
                // Silences are events: one no longer by half than a silence the signal already
                // had is its habit (a logger that pauses every night), whatever their rarity
                // among samples: still a fault, just above the threshold.
                let habitual = raw <= 1.5 * longestGap
                longestGap = max(longestGap, raw)
                verdict.addState(.dropout, certainty: habitual ? 1.001 : 1 + (raw - 1) * news) {
                    "dropout: no sample for \(FixedPoint.format(gap / 1000, digits: 1)) s (timeout \(FixedPoint.format(timeout / 1000, digits: 1)) s)"
                }
            }
            rarity.learn(raw)
        }
        lastTimeMs = t

        guard let seq = sample.seq else { return }
        defer { lastSeq = seq }
        guard let lastSeq else { return }
        let jump = seq &- lastSeq
        // A backward jump (or one of 2^31 or more) is a restart we did not see, not loss.
        guard jump > 1 && jump < 1 << 31 else { return }
        let lost = Int(jump - 1)
        lostFrames += lost
        guard enabled.contains(.lostFrames) else { return }
        verdict.addState(.lostFrames, certainty: 1 + Double(lost) / 10) {
            "lost_frames: seq jumped from \(lastSeq) to \(seq), \(lost) frame\(lost == 1 ? "" : "s") lost"
        }
    }
}
