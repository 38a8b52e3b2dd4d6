#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import GRDB

/// Episodes waiting to be delivered, on disk (SQLite through GRDB), so an alarm raised while
/// the broker or the network is away is sent when it returns, after a restart too. The table
/// lives in the history store when there is one (its own connection: the history writer's
/// once-a-second transaction and an episode's row never wait long for each other), else in a
/// small file of its own.
///
/// One row per message and destination (`mqtt`, or a webhook's URL), in `seq` order; a row is
/// deleted once the destination acknowledged it (PUBACK, or an HTTP 2xx), so delivery is at
/// least once and in order per destination.
public final class Outbox: Sendable {
    public struct Row: Sendable, Equatable {
        public var seq: Int64
        public var target: String
        public var device: String
        public var topic: String
        public var body: String
        public var attempts: Int
        public var nextAttemptMs: Int64
    }

    let queue: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    target TEXT NOT NULL, device TEXT NOT NULL, topic TEXT NOT NULL, body TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
                    created_ms INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS outbox_target ON outbox (target, seq);
                """)
        }
    }

    /// Moves every row of another outbox (the file of a run without history, or the history
    /// store of a run with it) to the end of this one, in order, keeping attempts and retry
    /// times; then deletes them there, or the whole file when `removingFile`. Returns how many
    /// moved. A file without an outbox table moves nothing and is left alone.
    public func absorb(from path: String, removingFile: Bool) throws -> Int {
        var config = Configuration()
        config.busyMode = .timeout(5)
        let other = try DatabaseQueue(path: path, configuration: config)
        let rows = try other.read { db -> [GRDB.Row] in
            guard try db.tableExists("outbox") else { return [] }
            return try GRDB.Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY seq")
        }
        if !rows.isEmpty {
            try queue.write { db in
                for r in rows {
                    try db.execute(sql: """
                        INSERT INTO outbox (target, device, topic, body, attempts, next_attempt_ms, created_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [r["target"], r["device"], r["topic"], r["body"], r["attempts"], r["next_attempt_ms"], r["created_ms"]])
                }
            }
        }
        if removingFile {
            try other.close()
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        } else if !rows.isEmpty, let last = rows.last?["seq"] as Int64? {
            try other.write { db in try db.execute(sql: "DELETE FROM outbox WHERE seq <= ?", arguments: [last]) }
        }
        return rows.count
    }

    /// Adds messages, in order, in one transaction.
    public func add(_ items: [(target: String, device: String, topic: String, body: String)], nowMs: Int64) throws {
        guard !items.isEmpty else { return }
        try queue.write { db in
            for item in items {
                try db.execute(sql: "INSERT INTO outbox (target, device, topic, body, created_ms) VALUES (?, ?, ?, ?, ?)",
                               arguments: [item.target, item.device, item.topic, item.body, nowMs])
            }
        }
    }

    /// The oldest rows for `target` after `afterSeq`, at most `limit`.
    public func pending(target: String, afterSeq: Int64 = 0, limit: Int = 100) throws -> [Row] {
        try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE target = ? AND seq > ? ORDER BY seq LIMIT ?",
                                  arguments: [target, afterSeq, limit]).map(Self.row)
        }
    }

    /// Rows of the webhooks (any target but `mqtt`) whose retry time has come, oldest first.
    public func dueWebhooks(nowMs: Int64, limit: Int = 20) throws -> [Row] {
        try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT * FROM outbox o WHERE target != 'mqtt' AND next_attempt_ms <= ? AND seq = (SELECT MIN(seq) FROM outbox WHERE target = o.target AND device = o.device) ORDER BY seq LIMIT ?",
                                  arguments: [nowMs, limit]).map(Self.row)
        }
    }

    /// The earliest retry time of a webhook row, if any waits.
    public func nextWebhookAttemptMs() throws -> Int64? {
        try queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_ms) FROM outbox WHERE target != 'mqtt'")
        }
    }

    public func delete(seq: Int64) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM outbox WHERE seq = ?", arguments: [seq]) }
    }

    public func retryLater(seq: Int64, attempts: Int, atMs: Int64) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE outbox SET attempts = ?, next_attempt_ms = ? WHERE seq = ?", arguments: [attempts, atMs, seq])
        }
    }

    public func count(target: String? = nil) throws -> Int {
        try queue.read { db in
            if let target { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE target = ?", arguments: [target]) ?? 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
        }
    }

    /// Drops the oldest rows beyond `keeping` (a broker away for months must not fill the disk).
    public func trim(keeping: Int) throws -> Int {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE seq NOT IN (SELECT seq FROM outbox ORDER BY seq DESC LIMIT ?)", arguments: [keeping])
            return db.changesCount
        }
    }

    private static func row(_ r: GRDB.Row) -> Row {
        Row(seq: r["seq"], target: r["target"], device: r["device"], topic: r["topic"], body: r["body"],
            attempts: r["attempts"], nextAttemptMs: r["next_attempt_ms"])
    }
}
