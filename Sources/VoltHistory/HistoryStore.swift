import GRDB
public import VoltCore

/// The history database: one SQLite file in WAL mode (readers never wait for the writer), made
/// and migrated on open. Everything here is synchronous; ``HistoryRecorder`` calls it off the
/// live path, once a second.
public final class HistoryStore: Sendable {
    public let path: String
    private let writer: any DatabaseWriter

    /// Opens (creating and migrating) the store at `path`. `readOnly` opens an existing file
    /// for browsing (`voltwatch serve --db`) without taking a write lock or migrating.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        // A second writer (another agent on the same file) waits a little, then the flush
        // fails and is retried: the live stream never waits on the database.
        configuration.busyMode = .timeout(1)
        configuration.label = "voltwatch-history"
        if readOnly {
            configuration.readonly = true
            writer = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            configuration.prepareDatabase { db in
                // WAL with NORMAL sync: one fsync per checkpoint instead of per flush. A
                // process killed loses nothing written; a power cut (or a filesystem that
                // fails) may lose the flushes the kernel had not yet written back, never
                // corrupt the file.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let pool = try DatabasePool(path: path, configuration: configuration)
            try HistorySchema.migrator.migrate(pool)
            writer = pool
        }
    }

    // MARK: Writing

    /// Writes one flush in one transaction: aggregates merged into their rows, episodes as
    /// they stand, context samples, stream names.
    public func write(_ batch: HistoryBatch) throws {
        try writer.write { db in
            for (table, rows) in [("seconds", batch.seconds), ("minutes", batch.minutes)] where !rows.isEmpty {
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO \(table) (stream, t, min, max, sum, count, anomalies) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (stream, t) DO UPDATE SET
                        min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum,
                        count = count + excluded.count, anomalies = anomalies + excluded.anomalies
                    """)
                for row in rows {
                    let a = row.aggregate
                    try statement.execute(arguments: [row.key.stream, row.key.startMs, a.min, a.max, a.sum, a.count, a.anomalies])
                }
            }
            if !batch.episodes.isEmpty {
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO episodes (stream, id, start_ms, end_ms, peak_score, peak_value, severity, kinds, reasons, samples, open)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (stream, id) DO UPDATE SET
                        start_ms = excluded.start_ms, end_ms = excluded.end_ms, peak_score = excluded.peak_score,
                        peak_value = excluded.peak_value, severity = excluded.severity, kinds = excluded.kinds,
                        reasons = excluded.reasons, samples = excluded.samples, open = excluded.open
                    """)
                for stored in batch.episodes {
                    let e = stored.episode
                    let kinds = AnomalyKind.allCases.filter { e.kinds.contains($0) }.map(\.rawValue).joined(separator: ",")
                    let reasons = "[" + e.reasons.map(JSONText.string).joined(separator: ",") + "]"
                    try statement.execute(arguments: [
                        stored.stream, Int64(e.id), e.startMs, e.endMs, e.peakScore, stored.peakValue,
                        stored.peakSeverity.rawValue, kinds, reasons, e.samples, e.isOpen,
                    ])
                }
            }
            if !batch.contexts.isEmpty {
                // Samples are keyed by their receive millisecond, and several can share one (a
                // board read in bursts, a fast one): the millisecond keeps the sample with the
                // higher score, and the anomaly flag if either had it. (Keeping the first, as
                // before, could drop an alarm's very onset from its own context.)
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO episode_samples (stream, episode, t, value, score, anomaly) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (stream, episode, t) DO UPDATE SET
                        value = CASE WHEN excluded.score > score THEN excluded.value ELSE value END,
                        score = max(score, excluded.score), anomaly = max(anomaly, excluded.anomaly)
                    """)
                for context in batch.contexts {
                    for point in context.points {
                        try statement.execute(arguments: [context.stream, Int64(context.episode), point.atMs, point.value,
                                                          point.score, point.anomaly])
                    }
                }
            }
            if !batch.streams.isEmpty {
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO streams (stream, name, unit, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (stream) DO UPDATE SET name = excluded.name, unit = excluded.unit,
                        first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)
                    """)
                for info in batch.streams {
                    try statement.execute(arguments: [info.stream, info.name, info.unit, info.firstMs, info.lastMs])
                }
            }
        }
    }

    /// Deletes aggregates and episodes older than the retention allows: per-second rows before
    /// `secondsBeforeMs`, per-minute rows and episodes (with their context) before
    /// `minutesBeforeMs`. Returns the rows deleted.
    @discardableResult
    public func prune(secondsBeforeMs: Int64, minutesBeforeMs: Int64) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM seconds WHERE t < ?", arguments: [secondsBeforeMs])
            var deleted = db.changesCount
            try db.execute(sql: "DELETE FROM minutes WHERE t < ?", arguments: [minutesBeforeMs])
            deleted += db.changesCount
            try db.execute(sql: """
                DELETE FROM episode_samples WHERE (stream, episode) IN
                    (SELECT stream, id FROM episodes WHERE end_ms < ? AND open = 0)
                """, arguments: [minutesBeforeMs])
            deleted += db.changesCount
            try db.execute(sql: "DELETE FROM episodes WHERE end_ms < ? AND open = 0", arguments: [minutesBeforeMs])
            deleted += db.changesCount
            return deleted
        }
    }

    /// Merges the WAL into the database file and closes every connection: what is left is
    /// one self-contained file. The store cannot be used afterwards.
    public func close() throws {
        try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try writer.close()
    }

    // MARK: Reading

    /// The stream's values from `fromMs` to `toMs` (exclusive) in buckets of `stepSeconds`,
    /// from the per-second rows when the step is under a minute and they reach back far
    /// enough, else from the per-minute rows. Empty buckets are left out.
    public func history(stream: String, fromMs: Int64, toMs: Int64, stepSeconds: Int64, secondsKeptSinceMs: Int64? = nil) throws -> [HistoryPoint] {
        let useSeconds = stepSeconds < 60 && (secondsKeptSinceMs.map { fromMs >= $0 } ?? true)
        let table = useSeconds ? "seconds" : "minutes"
        let stepMs = max(stepSeconds, useSeconds ? 1 : 60) * 1_000
        let startMs = fromMs - ((fromMs % stepMs) + stepMs) % stepMs
        // A step of the table's own bucket reads its rows as they are (in key order, no
        // grouping): half the time of a 7-day query at 1 minute.
        let sql = stepMs == (useSeconds ? 1_000 : 60_000)
            ? "SELECT t, min, max, sum, count, anomalies FROM \(table) WHERE stream = ? AND t >= ? AND t < ? ORDER BY t"
            : """
                SELECT (t / \(stepMs)) * \(stepMs) AS bucket, min(min), max(max), sum(sum), sum(count), sum(anomalies)
                FROM \(table) WHERE stream = ? AND t >= ? AND t < ? GROUP BY bucket ORDER BY bucket
                """
        return try writer.read { db in
            var points: [HistoryPoint] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [stream, startMs, toMs])
            while let row = try rows.next() {
                points.append(HistoryPoint(startMs: row[0], aggregate: Aggregate(min: row[1], max: row[2], sum: row[3],
                                                                                 count: row[4], anomalies: row[5])))
            }
            return points
        }
    }

    /// Episodes newest onset first: of one stream or all, overlapping `[sinceMs, untilMs)`.
    public func episodes(stream: String?, sinceMs: Int64?, untilMs: Int64?, limit: Int) throws -> [StoredEpisode] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let stream { conditions.append("stream = ?"); arguments += [stream] }
        if let sinceMs { conditions.append("end_ms >= ?"); arguments += [sinceMs] }
        if let untilMs { conditions.append("start_ms < ?"); arguments += [untilMs] }
        arguments += [limit]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM episodes \(filter) ORDER BY start_ms DESC, stream LIMIT ?",
                             arguments: arguments).map(Self.episode)
        }
    }

    /// The samples stored around one episode, oldest first.
    public func context(stream: String, episode: UInt64) throws -> [EpisodeContext.Point] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT t, value, score, anomaly FROM episode_samples WHERE stream = ? AND episode = ? ORDER BY t",
                             arguments: [stream, Int64(episode)]).map { row in
                EpisodeContext.Point(atMs: row["t"], value: row["value"], score: row["score"], anomaly: row["anomaly"])
            }
        }
    }

    /// Every stream history has heard of.
    public func streams() throws -> [StreamInfo] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM streams ORDER BY stream").map { row in
                StreamInfo(stream: row["stream"], name: row["name"], unit: row["unit"], firstMs: row["first_ms"], lastMs: row["last_ms"])
            }
        }
    }

    /// The next episode id of each stream, so a restarted agent numbers on instead of
    /// reusing ids its history already holds.
    public func nextEpisodeIDs() throws -> [String: UInt64] {
        try writer.read { db in
            var next: [String: UInt64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT stream, max(id) AS id FROM episodes GROUP BY stream") {
                let id: Int64 = row["id"]
                next[row["stream"]] = UInt64(max(0, id)) + 1
            }
            return next
        }
    }

    private static func episode(_ row: Row) -> StoredEpisode {
        let kindsText: String = row["kinds"]
        var kinds = AnomalyKinds()
        for name in kindsText.split(separator: ",") { if let kind = AnomalyKind(rawValue: String(name)) { kinds.insert(kind) } }
        var reasons: [String] = []
        let reasonsText: String = row["reasons"]
        if case .array(let items)? = try? JSONValue.parse(Array(reasonsText.utf8)) {
            reasons = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        let id: Int64 = row["id"]
        let episode = AlarmEpisode(
            id: UInt64(max(0, id)), startMs: row["start_ms"], endMs: row["end_ms"], peakScore: row["peak_score"],
            kinds: kinds, reasons: reasons, samples: row["samples"], isOpen: row["open"])
        let severity: String = row["severity"]
        return StoredEpisode(stream: row["stream"], episode: episode, peakValue: row["peak_value"],
                             peakSeverity: Severity(rawValue: severity) ?? .normal)
    }
}

/// What one flush writes.
public struct HistoryBatch: Sendable {
    public var seconds: [(key: BucketAggregator.Key, aggregate: Aggregate)] = []
    public var minutes: [(key: BucketAggregator.Key, aggregate: Aggregate)] = []
    /// Episodes touched since the last flush, as they stand now.
    public var episodes: [StoredEpisode] = []
    /// Context samples gathered since the last flush (an alarm's chart fills as it goes).
    public var contexts: [(stream: String, episode: UInt64, points: [EpisodeContext.Point])] = []
    public var streams: [StreamInfo] = []

    public init() {}

    public var isEmpty: Bool { seconds.isEmpty && minutes.isEmpty && episodes.isEmpty && contexts.isEmpty && streams.isEmpty }
}
