/// One signal of a device, scored on its own: a single-signal board's readings (`$VOLT`, bare
/// numbers, CSV rows, a phone's samples) or one channel of a `$VOLTS` board.
///
/// It calibrates each reading with its ``ChannelSettings`` before scoring, so the scorer, the
/// limits and the reasons all work in the channel's unit, and it groups its anomalous results
/// into alarm episodes of its own: a spike on one channel alarms that channel only.
public struct SignalStream: Sendable {
    /// What results are published under: `<device>` for the single signal, `<device>/<channel>`.
    public let id: String
    /// nil for a board's single signal.
    public let channel: AnalogChannel?
    public let settings: ChannelSettings?
    /// What its results carry beside the original fields; nil keeps the original format.
    public let label: StreamLabel?
    public private(set) var scorer: Scorer
    public private(set) var episodes: EpisodeTracker
    /// What the last scored sample (or restart) did to the episodes.
    public private(set) var lastEpisodeChange: EpisodeTracker.Change = .none
    /// Samples, anomalies, lost frames and the last receive time of this signal.
    public private(set) var counters = StreamCounters()

    /// The settings' calibration, nil when it changes nothing: read for every sample, so kept
    /// on its own (reading it through the optional settings copied their strings each time).
    private let calibration: Calibration?
    /// How long a silence must last to be a dropout (the scorer's timeout), nil when the
    /// dropout detector is off: read for every line, so kept rather than derived each time.
    private let silenceAfterMs: Double?
    /// Whether the silence since the last sample has been announced (``noteSilence(nowMs:)``).
    private var silenceAnnounced = false
    /// When the `$HELLO` that named the signal came, while no sample has come since
    /// (``restart(expectedFromMs:)``): its silence is counted from there, not from its last
    /// sample, and its reason says the board restarted.
    private var helloMs: Int64?

    public init(id: String, channel: AnalogChannel?, settings: ChannelSettings?, config: ModelConfig, firstEpisodeID: UInt64 = 1) {
        self.silenceAfterMs = config.enabledKinds.contains(.dropout) ? config.dropoutTimeoutMs : nil
        self.id = id
        self.channel = channel
        self.settings = settings
        self.calibration = settings.map(\.calibration).flatMap { $0.isIdentity ? nil : $0 }
        self.label = channel == nil && settings == nil
            ? nil : StreamLabel(channel: channel, name: settings?.name, unit: settings?.unit ?? ChannelSettings.defaultUnit)
        self.scorer = Scorer(config: config, channel: settings)
        self.episodes = EpisodeTracker(firstID: firstEpisodeID)
    }

    /// Calibrates and scores one reading (`sample.volts` is the reading at the pin).
    ///
    /// Always inlined into its callers (two in this module): the result then goes from the
    /// scorer to the caller's output in one place instead of being copied out of a call and
    /// in again (5 % of the core benchmark).
    @inline(__always)
    public mutating func ingest(sample: Sample) -> ScoredResult {
        var sample = sample
        if let calibration {
            sample.pinVolts = sample.volts
            // Rounded to a micro-unit: 3 × 3.304 is 9.912 on a phone, not 9.911999999999999.
            sample.volts = (calibration.value(pinVolts: sample.volts) * 1e6).rounded() / 1e6
        }
        counters.frames += 1
        counters.lastReceivedMs = sample.receivedAtMs
        silenceAnnounced = false
        helloMs = nil
        var result = scorer.score(sample, label: label)
        lastEpisodeChange = episodes.observe(&result)
        counters.lost = scorer.lostFrames
        if result.isAnomaly { counters.anomalies += 1 }
        return result
    }

    /// Opens a dropout episode (or adds the dropout to the one in progress) when, at `nowMs`,
    /// the signal has had no sample for longer than the dropout timeout; once per silence, nil
    /// otherwise. ``DeviceStream`` calls it with every line's receive time before scoring the
    /// line, and the live reader also by its clock while nothing arrives, so the phone hears of
    /// a silent board while it is silent. Either way the episode starts at the last sample plus
    /// the timeout and has the same id, so live and replayed results (their `episode` field)
    /// stay identical whenever the reader's clock got there first.
    public mutating func noteSilence(nowMs: Int64) -> EpisodeTracker.Change? {
        guard !silenceAnnounced, let timeout = silenceAfterMs, let last = helloMs ?? counters.lastReceivedMs,
              Double(nowMs - last) > timeout else { return nil }
        silenceAnnounced = true
        let seconds = FixedPoint.format(timeout / 1000, digits: 1)
        let reason = helloMs != nil
            ? "dropout: no sample for over \(seconds) s since the board restarted ($HELLO); the line is silent"
            : "dropout: no sample for over \(seconds) s; the line is silent"
        let change = episodes.openSilence(atMs: last + Int64(timeout.rounded(.up)), score: scorer.config.anomalyThreshold,
                                          reason: reason)
        return change == .none ? nil : change
    }

    /// The board rebooted: `seq` starts again (not frame loss), the alarm in progress ends.
    ///
    /// `expectedFromMs`: the `$HELLO`'s receive time when it names this signal among those the
    /// board now samples; its silence is then counted from there, so a board that restarts and
    /// never samples again alarms after the dropout timeout like any silent board. nil for a
    /// signal the board no longer sends (a channel dropped by `$SET`, `$VOLT` after `$VOLTS`):
    /// it is expected again only from its next sample, and not left alarming as silent forever.
    mutating func restart(expectedFromMs: Int64?) {
        scorer.restart()
        lastEpisodeChange = episodes.close()
        helloMs = expectedFromMs
        silenceAnnounced = expectedFromMs == nil
    }

    /// The same signal under a new configuration or new settings: fresh windows, episode ids
    /// continuing. Returns the episode the change ended, if one was open.
    func replaced(config: ModelConfig, settings: ChannelSettings?) -> (SignalStream, EpisodeTracker.Change) {
        var old = episodes
        let closed = old.close()
        var next = SignalStream(id: id, channel: channel, settings: settings, config: config, firstEpisodeID: old.upcomingID)
        next.counters = counters
        // A silence already announced (its episode the change just ended) is not news again.
        next.silenceAnnounced = silenceAnnounced
        next.helloMs = helloMs
        return (next, closed)
    }
}
