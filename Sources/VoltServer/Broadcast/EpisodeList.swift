import VoltCore

/// The alarm episodes `/api/anomalies` reports: each device's open one, and the last
/// `capacity` that ended, newest first. Fed the ``EpisodeTracker/Change``s the serial side
/// publishes, plus the results, for the reading at each episode's peak.
///
/// A phone that asks what happened wants "a dip to 3.1 V at 14:02, for 40 s", not forty rows;
/// an hour-long fault is one entry, whatever its length.
struct EpisodeList: Sendable {
    /// One episode with the device it belongs to and its peak's reading.
    struct Entry: Sendable {
        var device: String
        var episode: AlarmEpisode
        /// Voltage and severity of the result with the highest score so far.
        var peakVoltage: Double
        var peakSeverity: Severity
    }

    private var open: [String: Entry] = [:]
    private var ended: RecentRing<Entry>
    /// The newest anomalous result of each device: its reading becomes the peak's when the
    /// episode change that follows it raises the peak score.
    private var lastAnomalous: [String: ScoredResult] = [:]

    init(capacity: Int) {
        ended = RecentRing(capacity: capacity)
    }

    /// Episodes open and kept.
    var count: Int { open.count + ended.count }

    mutating func note(_ result: ScoredResult, device: String) {
        if result.isAnomaly { lastAnomalous[device] = result }
    }

    mutating func apply(_ change: EpisodeTracker.Change, device: String) {
        guard let episode = change.episode else { return }
        var entry = open[device].flatMap { $0.episode.id == episode.id ? $0 : nil }
            // An episode a silence opened has no result yet: the threshold's band until one comes.
            ?? Entry(device: device, episode: episode, peakVoltage: .nan, peakSeverity: .warning)
        if let result = lastAnomalous[device], result.episode == episode.id,
           entry.peakVoltage.isNaN || result.anomalyScore >= entry.episode.peakScore {
            entry.peakVoltage = result.voltage
            entry.peakSeverity = result.severity
        }
        entry.episode = episode
        switch change {
        case .opened:
            // A stream that started again numbers from 1: whatever was open is over.
            if let previous = open[device], previous.episode.id != episode.id { close(previous) }
            open[device] = entry
        case .extended:
            open[device] = entry
        case .closed:
            open[device] = nil
            close(entry)
        case .none:
            break
        }
    }

    /// Ends every open episode: the configuration changed, and what follows is judged afresh.
    mutating func closeAll() {
        for entry in open.values { close(entry) }
        open.removeAll()
    }

    private mutating func close(_ entry: Entry) {
        var entry = entry
        let e = entry.episode
        entry.episode = AlarmEpisode(id: e.id, startMs: e.startMs, endMs: e.endMs, peakScore: e.peakScore,
                                     kinds: e.kinds, reasons: e.reasons, samples: e.samples, isOpen: false)
        ended.append(entry)
    }

    /// Up to `limit` episodes, newest onset first.
    func newestFirst(limit: Int) -> [Entry] {
        let current = open.values.sorted { $0.episode.startMs > $1.episode.startMs }
        return Array((current + ended.newestFirst(limit: limit)).prefix(limit))
    }
}
