#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import GRDB
public import Logging
public import ServiceLifecycle
import Synchronization
public import VoltCore

/// Keeps history: takes every event as an ``AgentEventSink`` (a few dictionary updates under a
/// short lock, never I/O), and as a ``Service`` writes what gathered once a second in one
/// transaction, off the live path.
///
/// When the store cannot be written (read-only, full, damaged, locked) the batch goes back into
/// memory, bounded (the oldest per-second buckets go first; per-minute buckets are few), the
/// failure is reported in ``health``, and the next flush reopens the file and tries again, so
/// removing the cause is enough to recover.
public final class HistoryRecorder: AgentEventSink, Service, HistorySource {
    public struct Options: Sendable {
        public var path: String
        public var flushIntervalMs = 1_000
        /// Per-second aggregates are kept this long, then pruned (per-minute ones stay).
        public var secondsRetentionMs: Int64 = 7 * 86_400_000
        /// Per-minute aggregates and episodes are kept this long.
        public var minutesRetentionMs: Int64 = 365 * 86_400_000
        /// Most per-second buckets held in memory while the store cannot be written.
        public var maxPendingSeconds = 50_000
        public var pruneIntervalMs: Int64 = 3_600_000

        public init(path: String) { self.path = path }
    }

    fileprivate struct Pending: Sendable {
        var seconds = BucketAggregator(bucketMs: 1_000)
        var minutes = BucketAggregator(bucketMs: 60_000)
        /// Episodes touched since the last flush, by "stream#id".
        var episodes: [String: StoredEpisode] = [:]
        /// Every open episode, so a reload or shutdown can end it in the store too.
        var open: [String: StoredEpisode] = [:]
        var lastAnomalous: [String: ScoredResult] = [:]
        var contexts: [String: EpisodeContext] = [:]
        /// Context points a failed write could not store, written with the next batch.
        var unwrittenContexts: [(stream: String, episode: UInt64, points: [EpisodeContext.Point])] = []
        var streams: [String: StreamInfo] = [:]
    }

    public let options: Options
    public let health: HistoryHealth
    private let pending = Mutex(Pending())
    private let store: Mutex<HistoryStore?>
    private let logger: Logger
    private let flushes = Atomic<Int>(0)

    /// Opens the store now. One that cannot be opened (damaged, read-only, on a full disk) does
    /// not stop the agent: the failure is reported in ``health`` and the log, and every flush
    /// tries again, so moving a damaged file aside or freeing space is enough.
    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        self.health = HistoryHealth(path: options.path)
        do {
            self.store = Mutex(try HistoryStore(path: options.path))
        } catch {
            self.store = Mutex(nil)
            let message = Self.explain(error, path: options.path)
            _ = health.failed(message, atMs: Self.nowMs(), pending: 0, dropped: 0)
            logger.error("history: \(message); live data keeps flowing, retrying every second")
        }
    }

    /// Flushes done (successful or not): what a test waits for instead of sleeping.
    public var flushCount: Int { flushes.load(ordering: .acquiring) }

    public var secondsKeptSinceMs: Int64 { Self.nowMs() - options.secondsRetentionMs }

    /// The store to read (the API, the ids to number on from): the one being written, or,
    /// while it cannot be opened for writing (a read-only filesystem), the file opened
    /// read-only, so what history holds stays readable.
    public func currentStore() throws -> HistoryStore {
        do {
            return try writableStore()
        } catch {
            if let reader = try? HistoryStore(path: options.path, readOnly: true) { return reader }
            throw error
        }
    }

    /// The store as it is now, reopened if a failure closed it.
    func writableStore() throws -> HistoryStore {
        try store.withLock { current in
            if let current { return current }
            let opened = try HistoryStore(path: options.path)
            current = opened
            return opened
        }
    }

    public var healthSnapshot: HistoryHealth.Snapshot? { health.snapshot }

    // MARK: Events

    public func publish(_ event: AgentEvent) {
        switch event {
        case .result(let device, let result):
            pending.withLock { $0.note(result, stream: device) }
        case .episode(let device, let change):
            pending.withLock { $0.apply(change, stream: device) }
        case .configReloaded:
            // Every stream starts again: open episodes end where they stand.
            pending.withLock { $0.endOpenEpisodes() }
        case .deviceStatus, .hello, .counters:
            break
        }
    }

    // MARK: Writing

    public func run() async throws {
        var nextPrune = Self.nowMs()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(self.options.flushIntervalMs))
                }
            } catch {
                break
            }
            await flushOffThread(final: false)
            if Self.nowMs() >= nextPrune {
                nextPrune = Self.nowMs() + options.pruneIntervalMs
                prune()
            }
        }
        await flushOffThread(final: true)
        let left = health.snapshot
        if left.state == .failing && left.pendingRows > 0 {
            // Kept in memory for a store that never came back: say what is lost with the process.
            logger.error("history: stopping with \(left.pendingRows) buckets never written (\(left.error ?? "store failing")); they are lost")
        }
        closeStore()
    }

    /// Checkpoints and closes the store once the last flush is written, so a stopped agent
    /// leaves `history.sqlite` complete on its own (no `-wal` holding the latest rows): a copy
    /// of that one file, or a backup of it, has everything. The process would otherwise exit
    /// with its connections open and the WAL unmerged.
    private func closeStore() {
        store.withLock { current in
            guard let open = current else { return }
            do {
                try open.close()
            } catch {
                logger.warning("history: closing the store failed: \(Self.explain(error, path: options.path))")
            }
            current = nil
        }
    }

    private func flushOffThread(final: Bool) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let job = FlushJob { self.flush(final: final); done.resume() }
            var thread = pthread_t()
            let box = Unmanaged.passRetained(job).toOpaque()
            let started = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<FlushJob>.fromOpaque(raw!).takeRetainedValue()
                job.body()
                return nil
            }, box)
            if started == 0 {
                pthread_detach(thread)
            } else {
                Unmanaged<FlushJob>.fromOpaque(box).release()
                self.flush(final: final)
                done.resume()
            }
        }
    }

    /// Writes what gathered. `final`: the agent is stopping, so every context still being
    /// followed and every open episode's state is written too.
    public func flush(final: Bool = false) {
        defer { flushes.add(1, ordering: .releasing) }
        var batch = pending.withLock { $0.take(final: final) }
        guard !batch.isEmpty else { return }
        let now = Self.nowMs()
        do {
            try writableStore().write(batch)
            health.wrote(atMs: now, pending: 0)
        } catch {
            let message = Self.explain(error, path: options.path)
            let dropped = pending.withLock { state -> Int in
                state.restore(&batch)
                return state.seconds.dropOldest(keeping: options.maxPendingSeconds)
            }
            let count = pending.withLock { $0.seconds.count + $0.minutes.count }
            if health.failed(message, atMs: now, pending: count, dropped: dropped) {
                logger.error("history: \(message); live data keeps flowing, retrying every second")
            }
            // Reopen on the next flush: a file moved aside or remounted is picked up.
            store.withLock { $0 = nil }
        }
    }

    private func prune() {
        let now = Self.nowMs()
        do {
            let deleted = try writableStore().prune(secondsBeforeMs: now - options.secondsRetentionMs,
                                                   minutesBeforeMs: now - options.minutesRetentionMs)
            if deleted > 0 { logger.info("history: pruned \(deleted) rows past retention") }
        } catch {
            logger.warning("history: pruning failed: \(Self.explain(error, path: options.path))")
        }
    }

    /// A failure in words, with what to do about it.
    public static func explain(_ error: any Error, path: String) -> String {
        guard let error = error as? DatabaseError else { return "cannot use \(path): \(error)" }
        // A filesystem gone read-only under the open store fails its writes as I/O errors, a
        // new open as read-only: either way, that is the cause to name.
        switch error.resultCode {
        case .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            if isOnReadOnlyFilesystem(path) {
                return "cannot write \(path): its filesystem is read-only (after disk errors? see dmesg): check the disk, then mount it read-write (history resumes by itself)"
            }
        default:
            break
        }
        switch error.resultCode {
        case .SQLITE_FULL:
            return "the disk holding \(path) is full: free some space there (history resumes by itself)"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return "cannot write \(path): check that its directory is writable by the agent and its filesystem is not read-only"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "\(path) is damaged: move it aside and the agent starts a new one (`sqlite3 \(path) .recover` may save its contents)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "\(path) is locked by another program (another voltwatch on the same --data-dir?)"
        case .SQLITE_IOERR:
            return "I/O error on \(path) (\(error.message ?? "no detail")): check the disk"
        default:
            return "cannot write \(path): \(error.message ?? "\(error.resultCode)")"
        }
    }

    /// Whether the filesystem holding `path` (its directory) is read-only: mounted so, or
    /// turned so by the kernel after an error (ext4's errors=remount-ro still shows the mount
    /// as read-write, so a file is created and removed to find out).
    static func isOnReadOnlyFilesystem(_ path: String) -> Bool {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        var info = statvfs()
        if statvfs(directory, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0 { return true }
        let probe = directory + "/.voltwatch-write-probe"
        let fd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            unlink(probe)
            return false
        }
        return errno == EROFS
    }

    static func nowMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}

private final class FlushJob: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

extension HistoryRecorder.Pending {
    mutating func note(_ result: ScoredResult, stream: String) {
        let value = result.voltage
        seconds.add(stream: stream, atMs: result.timestampMs, value: value, anomaly: result.isAnomaly)
        minutes.add(stream: stream, atMs: result.timestampMs, value: value, anomaly: result.isAnomaly)
        if var info = streams[stream] {
            info.lastMs = max(info.lastMs, result.timestampMs)
            if let label = result.label { info.name = label.name; info.unit = label.unit }
            streams[stream] = info
        } else {
            streams[stream] = StreamInfo(stream: stream, name: result.label?.name, unit: result.label?.unit ?? ChannelSettings.defaultUnit,
                                         firstMs: result.timestampMs, lastMs: result.timestampMs)
        }
        if result.isAnomaly { lastAnomalous[stream] = result }
        var context = contexts[stream] ?? EpisodeContext()
        context.observe(.init(atMs: result.timestampMs, value: value, score: result.anomalyScore, anomaly: result.isAnomaly),
                        episode: result.episode)
        contexts[stream] = context
    }

    mutating func apply(_ change: EpisodeTracker.Change, stream: String) {
        guard let episode = change.episode else { return }
        let key = "\(stream)#\(episode.id)"
        // An episode a silence opened has no result yet: the threshold's band until one comes.
        var stored = open[key] ?? episodes[key] ?? StoredEpisode(stream: stream, episode: episode, peakValue: nil, peakSeverity: .warning)
        if let result = lastAnomalous[stream], result.episode == episode.id,
           stored.peakValue == nil || result.anomalyScore >= stored.episode.peakScore {
            stored.peakValue = result.voltage
            stored.peakSeverity = result.severity
        }
        stored.episode = episode
        episodes[key] = stored
        if episode.isOpen { open[key] = stored } else { open[key] = nil }
    }

    mutating func endOpenEpisodes() {
        for (key, var stored) in open {
            stored.episode = stored.episode.ended()
            episodes[key] = stored
        }
        open.removeAll()
    }

    mutating func take(final: Bool) -> HistoryBatch {
        var batch = HistoryBatch()
        batch.seconds = seconds.drain()
        batch.minutes = minutes.drain()
        if final { endOpenEpisodes() }
        var gathered = unwrittenContexts
        unwrittenContexts.removeAll()
        for stream in contexts.keys.sorted() {
            for entry in contexts[stream]!.takeNew() { gathered.append((stream, entry.episode, entry.points)) }
        }
        batch.episodes = episodes.values.sorted { ($0.episode.startMs, $0.stream) < ($1.episode.startMs, $1.stream) }
        episodes.removeAll(keepingCapacity: true)
        batch.contexts = gathered
        batch.streams = streams.values.sorted { $0.stream < $1.stream }
        return batch
    }

    /// Puts back a batch the store refused, under anything that arrived since.
    mutating func restore(_ batch: inout HistoryBatch) {
        seconds.restore(batch.seconds)
        minutes.restore(batch.minutes)
        for stored in batch.episodes {
            let key = "\(stored.stream)#\(stored.episode.id)"
            if episodes[key] == nil { episodes[key] = stored }
        }
        // Bounded: the newest context of a few hundred alarms.
        unwrittenContexts = Array((batch.contexts + unwrittenContexts).suffix(500))
    }
}

/// Where the HTTP API reads history from: the live recorder's store, or a store opened
/// read-only for browsing (`voltwatch serve --db`).
public protocol HistorySource: Sendable {
    func currentStore() throws -> HistoryStore
    /// Per-second rows exist from here on (older ones were pruned), epoch milliseconds.
    var secondsKeptSinceMs: Int64 { get }
    /// nil when the source writes nothing (a read-only store).
    var healthSnapshot: HistoryHealth.Snapshot? { get }
}

/// A store opened read-only, for browsing a replayed or copied database.
public struct ReadOnlyHistory: HistorySource {
    public let store: HistoryStore

    public init(path: String) throws {
        store = try HistoryStore(path: path, readOnly: true)
    }

    public func currentStore() throws -> HistoryStore { store }
    public var secondsKeptSinceMs: Int64 { .min }
    public var healthSnapshot: HistoryHealth.Snapshot? { nil }
}
