/// Dropouts (a silence longer than the timeout) and lost frames (a forward jump in `seq`).
struct GapDetector: Sendable {
    private var lastTimeMs: Int64?
    private var lastSeq: UInt32?
    private(set) var lostFrames = 0
    private let timeoutMs: Double
    private let enabled: AnomalyKinds

    init(config: ModelConfig) {
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
            if gap > timeout {
                verdict.add(.dropout, certainty: 1 + (gap - timeout) / timeout) {
                    "dropout: no sample for \(FixedPoint.format(gap / 1000, digits: 1)) s (timeout \(FixedPoint.format(timeout / 1000, digits: 1)) s)"
                }
            }
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
        verdict.add(.lostFrames, certainty: 1 + Double(lost) / 10) {
            "lost_frames: seq jumped from \(lastSeq) to \(seq), \(lost) frame\(lost == 1 ? "" : "s") lost"
        }
    }
}
