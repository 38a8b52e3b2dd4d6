import VoltCore
import VoltHistory

/// `GET /api/history`: a stream's values in buckets of `step` seconds, as rows of
/// `[t, min, max, mean, count, anomalies]` (`t` the bucket's start, epoch seconds): compact,
/// because a week at a 5-minute step is 2,016 of them.
struct HistoryReport: Encodable, Sendable {
    var device: String
    var from: Double
    var to: Double
    var step: Int64
    var columns = ["t", "min", "max", "mean", "count", "anomalies"]
    var points: [[Double]]

    init(device: String, fromMs: Int64, toMs: Int64, step: Int64, points: [HistoryPoint]) {
        self.device = device
        from = Double(secondsFromMilliseconds: fromMs)
        to = Double(secondsFromMilliseconds: toMs)
        self.step = step
        self.points = points.map { p in
            [Double(secondsFromMilliseconds: p.startMs), p.aggregate.min, p.aggregate.max, p.aggregate.mean,
             Double(p.aggregate.count), Double(p.aggregate.anomalies)]
        }
    }
}

extension HistoryReport {
    /// The report as JSON, written by hand: `JSONEncoder` took about 40 ms for the 10,080
    /// points of a week at a 1-minute step, most of the query's time. Same text (keys sorted,
    /// shortest numbers, whole ones without a fraction).
    var json: String {
        var out = "{\"columns\":[" + columns.map(JSONText.string).joined(separator: ",") + "],\"device\":"
        out += JSONText.string(device) + ",\"from\":" + JSONText.number(from) + ",\"points\":["
        out.reserveCapacity(out.utf8.count + points.count * 80)
        for (i, point) in points.enumerated() {
            out += i == 0 ? "[" : ",["
            for (j, value) in point.enumerated() {
                if j > 0 { out += "," }
                out += JSONText.number(value)
            }
            out += "]"
        }
        return out + "],\"step\":\(step),\"to\":" + JSONText.number(to) + "}"
    }
}

/// `GET /api/summary`: what happened, in sentences.
struct SummaryReport: Encodable, Sendable {
    struct Stream: Encodable, Sendable {
        var device: String
        var name: String?
        var unit: String
        var text: String
        var samples: Int
        var episodes: Int
    }

    var window: String
    var from: Double
    var to: Double
    var text: String
    var streams: [Stream]
}

/// `GET /api/episode`: one episode and the signal around it, `[t, value, score, anomaly]`.
struct EpisodeContextReport: Encodable, Sendable {
    var episode: EpisodeReport
    var columns = ["t", "value", "score", "anomaly"]
    var points: [[Double]]

    init(episode: EpisodeReport, points: [EpisodeContext.Point]) {
        self.episode = episode
        self.points = points.map { [Double(secondsFromMilliseconds: $0.atMs), $0.value, $0.score, $0.anomaly ? 1 : 0] }
    }
}

extension EpisodeReport {
    init(_ stored: StoredEpisode) {
        self.init(EpisodeList.Entry(device: stored.stream, episode: stored.episode,
                                    peakVoltage: stored.peakValue ?? .nan, peakSeverity: stored.peakSeverity))
    }

    /// The episodes as CSV, one per row, for a spreadsheet.
    static func csv(_ episodes: [EpisodeReport]) -> String {
        var out = "device,id,start,end,duration_seconds,peak_score,peak_voltage,severity,kinds,reasons,samples,open\n"
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : text
        }
        for e in episodes {
            let row = [field(e.device), "\(e.id)", JSONText.number(e.start), JSONText.number(e.end), JSONText.number(e.durationSeconds),
                       JSONText.number(e.peakScore), e.peakVoltage.map(JSONText.number) ?? "", e.severity,
                       field(e.kinds.joined(separator: " ")), field(e.reasons.joined(separator: " | ")), "\(e.samples)", e.open ? "1" : "0"]
            out += row.joined(separator: ",") + "\n"
        }
        return out
    }
}

/// `/api/status`'s `history`: whether the store is being written, and if not why and what to do.
struct HistoryStatus: Encodable, Sendable {
    var state: String
    var path: String?
    var error: String?
    var failingSince: Double?
    var lastWrite: Double?
    var writes: Int
    var failures: Int
    var pendingRows: Int
    var droppedRows: Int

    init(_ snapshot: HistoryHealth.Snapshot?) {
        guard let snapshot else {
            state = "read-only"
            writes = 0; failures = 0; pendingRows = 0; droppedRows = 0
            return
        }
        state = snapshot.state.rawValue
        path = snapshot.path
        error = snapshot.error
        failingSince = snapshot.failingSinceMs.map(Double.init(secondsFromMilliseconds:))
        lastWrite = snapshot.lastWriteMs.map(Double.init(secondsFromMilliseconds:))
        writes = snapshot.writes
        failures = snapshot.failures
        pendingRows = snapshot.pendingRows
        droppedRows = snapshot.droppedRows
    }

    enum CodingKeys: String, CodingKey {
        case state, path, error, writes, failures
        case failingSince = "failing_since"
        case lastWrite = "last_write"
        case pendingRows = "pending_rows"
        case droppedRows = "dropped_rows"
    }
}

/// `GET /api/history` without a device: the streams history holds.
struct StreamsReport: Encodable, Sendable {
    struct Stream: Encodable, Sendable {
        var device: String
        var name: String?
        var unit: String
        var first: Double
        var last: Double
    }

    var streams: [Stream]

    init(_ infos: [StreamInfo]) {
        streams = infos.map { Stream(device: $0.stream, name: $0.name, unit: $0.unit,
                                     first: Double(secondsFromMilliseconds: $0.firstMs), last: Double(secondsFromMilliseconds: $0.lastMs)) }
    }
}
