/// Everything one device's lines go through: parse, count, calibrate, score.
///
/// A board sends one signal (`$VOLT`, bare numbers) or several channels per frame (`$VOLTS`);
/// each becomes a ``SignalStream`` with its own scorer and episodes, named `<device>` or
/// `<device>/<channel>`. The live reader and `replay` both drive a `DeviceStream` line by line,
/// so identical lines with identical receive times give identical results whichever way they
/// arrive.
public struct DeviceStream: Sendable {
    /// What one line turned into.
    public enum Output: Sendable, Equatable {
        /// A result of the single signal (`$VOLT`, a bare number).
        case result(ScoredResult)
        /// One result per channel of a `$VOLTS` frame, channels ascending.
        case channels([ChannelResult])
        case hello(Hello)
        case rejected(LineRejection)
    }

    /// One channel's result of a `$VOLTS` frame.
    public struct ChannelResult: Sendable, Equatable {
        /// The stream id results are published under, `<device>/<channel>`.
        public var stream: String
        public var result: ScoredResult
        /// What it did to the channel's alarm episodes.
        public var episodeChange: EpisodeTracker.Change
    }

    /// The device id; the single signal's results are published under it.
    public let device: String
    /// The board's health: lines accepted, refused, `$HELLO`s, frames lost, anomalies.
    public private(set) var counters = StreamCounters()
    /// The board's last `$HELLO`, if it sent one.
    public private(set) var hello: Hello?
    /// The single signal (`$VOLT`, bare numbers, CSV rows).
    public private(set) var signal: SignalStream
    /// The channels of a `$VOLTS` board, by channel index, made as they first appear.
    public var channelSignals: [SignalStream?] {
        channelSlots.map { $0 < 0 ? nil : channels[$0] }
    }
    /// The channels' streams, in the order they first appeared. Dense and non-optional, so a
    /// reading is scored in place: through an optional array element (`[index]!`) the whole
    /// stream, a few KB, was copied out and back for every reading.
    private var channels: [SignalStream] = []
    /// Where each channel index's stream is in `channels` (-1: not seen yet).
    private var channelSlots: [Int] = Array(repeating: -1, count: Int(AnalogChannel.count))
    public private(set) var settings: AgentSettings
    /// Episodes that the last `$HELLO` or reload ended, of every signal, to publish.
    public private(set) var endedEpisodes: [(stream: String, change: EpisodeTracker.Change)] = []
    /// Dropout episodes that silences opened just before the last line was scored (see
    /// ``noteSilence(nowMs:)``), to publish before its results.
    public private(set) var silences: [(stream: String, change: EpisodeTracker.Change)] = []

    /// `firstEpisodeID`: where the single signal's alarm episode ids start (1 for a new device;
    /// pass the old stream's `episodes.upcomingID` when replacing a stream, so ids stay unique).
    ///
    /// `firstEpisodeIDs`: where each stream's ids start, by stream id (history's next ids, so an
    /// id names one alarm across restarts); it wins over `firstEpisodeID` for the single signal.
    public init(device: String, config: ModelConfig, settings: AgentSettings = .empty, firstEpisodeID: UInt64 = 1,
                firstEpisodeIDs: [String: UInt64] = [:]) {
        self.device = device
        self.settings = settings
        self.firstEpisodeIDs = firstEpisodeIDs
        self.signal = SignalStream(id: device, channel: nil, settings: settings.settings(device: device, channel: nil),
                                   config: config, firstEpisodeID: firstEpisodeIDs[device] ?? firstEpisodeID)
    }

    /// Where each stream's episode ids start (see ``init(device:config:settings:firstEpisodeID:firstEpisodeIDs:)``).
    private let firstEpisodeIDs: [String: UInt64]

    public var config: ModelConfig { signal.scorer.config }
    /// The single signal's scorer and episodes.
    public var scorer: Scorer { signal.scorer }
    public var episodes: EpisodeTracker { signal.episodes }
    /// What the single signal's last result did to its episodes.
    public var lastEpisodeChange: EpisodeTracker.Change { signal.lastEpisodeChange }

    /// Every signal that has scored a sample, the single one first, then channels ascending.
    public var activeSignals: [SignalStream] {
        ([signal] + channelSignals.compactMap { $0 }).filter { $0.counters.frames > 0 }
    }

    /// Parses and scores one line (terminator removed).
    public mutating func ingest(line: UnsafeBufferPointer<UInt8>, receivedAtMs: Int64) -> Output {
        let frame: Frame
        do {
            frame = try FrameParser.parse(line)
        } catch {
            counters.invalid[error.reason] += 1
            if !silences.isEmpty { silences.removeAll() }
            return .rejected(error)
        }
        return ingest(frame: frame, receivedAtMs: receivedAtMs)
    }

    /// Scores an already parsed frame.
    public mutating func ingest(frame: Frame, receivedAtMs: Int64) -> Output {
        announceSilences(nowMs: receivedAtMs)
        counters.lastReceivedMs = receivedAtMs
        switch frame {
        case .volt(let volt):
            return .result(score(Sample(volt, receivedAtMs: receivedAtMs)))
        case .legacy(let volts):
            return .result(score(Sample(volts: volts, receivedAtMs: receivedAtMs)))
        case .channels(let frame):
            return .channels(ingest(frame, receivedAtMs: receivedAtMs))
        case .hello(let hello):
            counters.hellos += 1
            self.hello = hello
            // The board rebooted (or took a new channel set): its seq and uptime start again,
            // which is not frame loss, and every alarm in progress ends. The signals it names
            // are expected from now on: `$VOLT` for A0 alone (or no set, an older firmware),
            // else a `$VOLTS` channel for each of its set, made now if it never sent (a board
            // just switched to channels by `$SET` that hangs before its first frame).
            endedEpisodes = []
            let set = hello.channels ?? [.a0]
            let single = set == [.a0]
            let named = single ? [] : Set(set.map { slot(for: $0) })
            signal.restart(expectedFromMs: single ? receivedAtMs : nil)
            noteEnded(signal)
            for slot in channelSlots where slot >= 0 {
                channels[slot].restart(expectedFromMs: named.contains(slot) ? receivedAtMs : nil)
                noteEnded(channels[slot])
            }
            return .hello(hello)
        }
    }

    public mutating func ingest(line: String, receivedAtMs: Int64) -> Output {
        var copy = line
        return copy.withUTF8 { ingest(line: $0, receivedAtMs: receivedAtMs) }
    }

    /// Scores a sample of the single signal that did not come as a line (CSV rows, a phone's
    /// `voltage_data`).
    public mutating func ingest(sample: Sample) -> ScoredResult {
        announceSilences(nowMs: sample.receivedAtMs)
        return score(sample)
    }

    /// Every signal that has had no sample for longer than the dropout timeout at `nowMs` and
    /// has not said so yet opens a dropout episode (``SignalStream/noteSilence(nowMs:)``): the
    /// live reader calls this by its clock while the line is quiet, so a silent board alarms
    /// while it is silent, not when it comes back. Returns the episodes opened (or joined),
    /// which are also in ``silences``. Every line does the same with its receive time before
    /// it is scored, so a silence shorter than the reader's tick alarms identically in a replay.
    public mutating func noteSilence(nowMs: Int64) -> [(stream: String, change: EpisodeTracker.Change)] {
        announceSilences(nowMs: nowMs)
        return silences
    }

    /// Fills ``silences``; allocates only when a silence is announced.
    private mutating func announceSilences(nowMs: Int64) {
        if !silences.isEmpty { silences.removeAll() }
        if let change = signal.noteSilence(nowMs: nowMs) { silences.append((signal.id, change)) }
        for slot in channels.indices {
            if let change = channels[slot].noteSilence(nowMs: nowMs) { silences.append((channels[slot].id, change)) }
        }
    }

    private mutating func score(_ sample: Sample) -> ScoredResult {
        counters.frames += 1
        counters.lastReceivedMs = sample.receivedAtMs
        let result = signal.ingest(sample: sample)
        counters.lost = max(counters.lost, signal.counters.lost)
        if result.isAnomaly { counters.anomalies += 1 }
        return result
    }

    private mutating func ingest(_ frame: ChannelsFrame, receivedAtMs: Int64) -> [ChannelResult] {
        counters.frames += 1
        var results: [ChannelResult] = []
        results.reserveCapacity(frame.readings.count)
        var anomalous = false
        for reading in frame.readings {
            let slot = slot(for: reading.channel)
            let sample = Sample(volts: reading.volts, receivedAtMs: receivedAtMs, seq: frame.seq,
                                uptimeMs: frame.uptimeMs, adcRaw: reading.adcRaw)
            let result = channels[slot].ingest(sample: sample)
            anomalous = anomalous || result.isAnomaly
            counters.lost = max(counters.lost, channels[slot].counters.lost)
            results.append(ChannelResult(stream: channels[slot].id, result: result,
                                         episodeChange: channels[slot].lastEpisodeChange))
        }
        if anomalous { counters.anomalies += 1 }
        return results
    }

    /// Where `channel`'s stream is in `channels`, made on first use.
    private mutating func slot(for channel: AnalogChannel) -> Int {
        let index = Int(channel.index)
        if channelSlots[index] >= 0 { return channelSlots[index] }
        let id = "\(device)/\(channel.name)"
        channelSlots[index] = channels.count
        channels.append(SignalStream(id: id, channel: channel, settings: settings.settings(device: device, channel: channel),
                                     config: config, firstEpisodeID: firstEpisodeIDs[id] ?? 1))
        return channels.count - 1
    }

    /// Counts lines refused before parsing: the partial first line after a port opens (a
    /// tail of a frame the board was already sending) is `.syntax`.
    public mutating func countRejected(_ reason: RejectionReason, _ lines: Int = 1) {
        counters.invalid[reason] += lines
    }

    /// Counts lines the framer dropped as over-long (they never reach ``ingest(line:receivedAtMs:)``).
    public mutating func countOverlong(_ lines: Int) {
        counters.invalid.tooLong += lines
    }

    /// Applies a reloaded configuration. The windows start again: statistics gathered under
    /// another window size or rate would mislead the new detectors.
    public mutating func apply(_ config: ModelConfig) {
        apply(config, settings: settings)
    }

    /// Applies reloaded settings and configuration: every signal starts afresh with its new
    /// calibration (a value in a new unit says nothing about the old windows).
    public mutating func apply(_ config: ModelConfig, settings: AgentSettings) {
        self.settings = settings
        endedEpisodes = []
        let (single, closed) = signal.replaced(config: config, settings: settings.settings(device: device, channel: nil))
        signal = single
        if closed != .none { endedEpisodes.append((signal.id, closed)) }
        for slot in channelSlots where slot >= 0 {
            guard let channel = channels[slot].channel else { continue }
            let (next, closed) = channels[slot].replaced(config: config, settings: settings.settings(device: device, channel: channel))
            channels[slot] = next
            if closed != .none { endedEpisodes.append((next.id, closed)) }
        }
    }

    private mutating func noteEnded(_ stream: SignalStream) {
        if stream.lastEpisodeChange != .none { endedEpisodes.append((stream.id, stream.lastEpisodeChange)) }
    }
}
