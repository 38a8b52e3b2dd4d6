#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
public import ServiceLifecycle
import Synchronization
public import VoltCore

/// Publishes what the agent sees to an MQTT broker and alert webhooks (docs/mqtt.md).
///
/// As an ``AgentEventSink`` it only notes events under a short lock (results in a bounded ring
/// that drops the oldest, statuses latest-wins, episode starts and ends in order); as a
/// ``Service`` it runs two threads of its own: one drives libmosquitto (connect, keepalive,
/// reconnect with backoff, publish) and writes episodes to the on-disk ``Outbox``, the other
/// POSTs webhooks from the same outbox with retries. Neither ever holds up the serial side.
public final class MQTTPublisher: AgentEventSink, Service {
    public struct Options: Sendable {
        /// `run --mqtt URL`: publishes even without an `"mqtt"` settings object, and wins over
        /// the settings' `url`.
        public var commandLineURL: String?
        /// The outbox file (episodes waiting for the broker or a webhook): the history store,
        /// or a file of its own.
        public var outboxPath: String
        /// Files where rows may wait from an earlier run (history was on, or off): moved into
        /// `outboxPath`, in order, when it opens.
        public var otherOutboxPaths: [String] = []
        /// Names this gateway when the settings do not.
        public var hostName: String
        /// Results held for the MQTT thread at most; the oldest go first.
        public var resultQueueCapacity = 4_096
        /// Most rows kept in the outbox; the oldest go first.
        public var outboxCapacity = 100_000
        public var maxBackoffMs: Int64 = 10_000
        /// The retained state is republished this often with fresh stream health.
        public var stateIntervalMs: Int64 = 10_000

        public init(commandLineURL: String?, outboxPath: String, hostName: String = MQTTPublisher.hostName()) {
            self.commandLineURL = commandLineURL
            self.outboxPath = outboxPath
            self.hostName = hostName
        }
    }

    /// What the sink gathered since the threads last looked.
    struct Inbox {
        var results: [(String, ScoredResult)] = []
        var droppedResults = 0
        var states: [String: DeviceStatus] = [:]
        var counters: [String: StreamCounters] = [:]
        var dirtyStates: Set<String> = []
        var episodes: [EpisodeMessage] = []
        var reload = false
        /// Per stream: the latest reading, and the peak of its open episode.
        var last: [String: (voltage: Double, severity: Severity, score: Double, label: StreamLabel?)] = [:]
        /// Streams with a result since the threads last looked.
        var seen: Set<String> = []
        var peaks: [String: (voltage: Double, severity: Severity, score: Double)] = [:]
        var open: [String: AlarmEpisode] = [:]
        var lastResultSentMs: [String: Int64] = [:]
        var resultIntervalMs: Int64 = 0
        var resultsOff = false
    }

    public let options: Options
    private let settingsProvider: @Sendable () -> AgentSettings
    private let logger: Logger
    private let inbox = Mutex(Inbox())
    private let stopping = Atomic<Bool>(false)
    /// Anything to publish to (MQTT or a webhook); while not, events are ignored at once, so a
    /// SIGHUP that adds an `"mqtt"` object starts publishing without a restart.
    private let active = Atomic<Bool>(false)
    /// Webhooks are configured; the webhook thread reads the outbox only then.
    let webhooksOn = Atomic<Bool>(false)
    /// Rows for webhooks may be waiting (set when written, and at start for a previous run's).
    let webhooksPending = Atomic<Bool>(true)
    private let outboxStore = Mutex<Outbox?>(nil)
    private let outboxFailureLogged = Atomic<Bool>(false)
    /// Counters for tests and the benchmark.
    public let stats = PublisherStats()

    /// `settings`: the settings in force (re-read after each `configReloaded`).
    public init(options: Options, settings: @escaping @Sendable () -> AgentSettings, logger: Logger) {
        self.options = options
        self.settingsProvider = settings
        self.logger = logger
        let config = Self.effective(settings(), commandLineURL: options.commandLineURL)
        inbox.withLock { $0.setRate(config.mqtt?.resultRate) }
        active.store(config.mqtt != nil || !config.webhooks.isEmpty, ordering: .releasing)
        webhooksOn.store(!config.webhooks.isEmpty, ordering: .releasing)
    }

    /// What is in force: the settings' mqtt object with `--mqtt`'s URL, or `--mqtt` alone.
    static func effective(_ settings: AgentSettings, commandLineURL: String?) -> (mqtt: MQTTSettings?, webhooks: [WebhookSettings]) {
        var mqtt = settings.mqtt
        if let url = commandLineURL {
            if mqtt == nil { mqtt = MQTTSettings(url: url) } else { mqtt!.url = url }
        }
        return (mqtt, settings.webhooks)
    }

    /// Whether the settings (or `--mqtt`) ask for anything to publish.
    public static func isConfigured(_ settings: AgentSettings, commandLineURL: String?) -> Bool {
        let config = effective(settings, commandLineURL: commandLineURL)
        return config.mqtt != nil || !config.webhooks.isEmpty
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "gateway" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let first = name.split(separator: ".").first.map(String.init) ?? name
        return first.isEmpty ? "gateway" : DiscoveryConfig.slug(first)
    }

    // MARK: Events (the live path: a lock, a few updates, no I/O)

    public func publish(_ event: AgentEvent) {
        switch event {
        case .result(let device, let result):
            guard active.load(ordering: .relaxed) else { return }
            inbox.withLock { $0.note(result, device: device, capacity: options.resultQueueCapacity) }
        case .episode(let device, let change):
            guard active.load(ordering: .relaxed) else { return }
            inbox.withLock { $0.note(change, device: device) }
        case .deviceStatus(let status):
            inbox.withLock {
                $0.states[status.device] = status
                $0.dirtyStates.insert(status.device)
            }
        case .counters(let device, let counters):
            inbox.withLock { $0.counters[device] = counters }
        case .configReloaded:
            inbox.withLock {
                $0.endOpenEpisodes()
                $0.reload = true
            }
        case .hello:
            break
        }
    }

    // MARK: Service

    public func run() async throws {
        let worker = MQTTWorker(publisher: self)
        let webhooks = WebhookWorker(publisher: self)
        let mqttDone = ThreadRunner.start(name: "vw-mqtt") { worker.run() }
        let hooksDone = ThreadRunner.start(name: "vw-webhooks") { webhooks.run() }
        try? await gracefulShutdown()
        stopping.store(true, ordering: .releasing)
        await mqttDone.wait()
        await hooksDone.wait()
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    func take() -> Inbox {
        inbox.withLock { state in
            var taken = Inbox()
            swap(&taken.results, &state.results)
            swap(&taken.episodes, &state.episodes)
            taken.droppedResults = state.droppedResults
            state.droppedResults = 0
            taken.states = state.states
            taken.counters = state.counters
            swap(&taken.dirtyStates, &state.dirtyStates)
            swap(&taken.seen, &state.seen)
            taken.reload = state.reload
            state.reload = false
            taken.last = state.last
            return taken
        }
    }

    func currentConfig() -> (mqtt: MQTTSettings?, webhooks: [WebhookSettings]) {
        let config = Self.effective(settingsProvider(), commandLineURL: options.commandLineURL)
        inbox.withLock { $0.setRate(config.mqtt?.resultRate) }
        active.store(config.mqtt != nil || !config.webhooks.isEmpty, ordering: .releasing)
        webhooksOn.store(!config.webhooks.isEmpty, ordering: .releasing)
        return config
    }

    /// The webhooks in the settings now in force (without touching the publishing state).
    func currentWebhooks() -> [WebhookSettings] { settingsProvider().webhooks }

    var log: Logger { logger }

    /// The outbox, opened on first use (and again after a failure).
    func outbox() -> Outbox? {
        outboxStore.withLock { store in
            if let store { return store }
            do {
                let directory = String(options.outboxPath[..<(options.outboxPath.lastIndex(of: "/") ?? options.outboxPath.startIndex)])
                if !directory.isEmpty { _ = mkdir(directory, 0o750) }
                let opened = try Outbox(path: options.outboxPath)
                for other in options.otherOutboxPaths where access(other, F_OK) == 0 {
                    do {
                        let moved = try opened.absorb(from: other, removingFile: other.hasSuffix("/outbox.sqlite"))
                        if moved > 0 { logger.notice("mqtt: moved \(moved) undelivered episode message(s) from \(other) into \(options.outboxPath)") }
                    } catch {
                        logger.warning("mqtt: cannot read the earlier outbox \(other): \(error); its messages stay there")
                    }
                }
                store = opened
                outboxFailureLogged.store(false, ordering: .relaxed)
                return store
            } catch {
                if !outboxFailureLogged.exchange(true, ordering: .relaxed) {
                    logger.error("mqtt: cannot open the outbox \(options.outboxPath): \(error); episodes are sent only while the broker is connected")
                }
                return nil
            }
        }
    }

    func outboxFailed() { outboxStore.withLock { $0 = nil } }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

extension MQTTPublisher.Inbox {
    mutating func setRate(_ rate: Double?) {
        resultsOff = rate == 0
        resultIntervalMs = rate.map { $0 > 0 ? Int64(1000 / $0) : 0 } ?? 0
    }

    mutating func note(_ result: ScoredResult, device: String, capacity: Int) {
        last[device] = (result.voltage, result.severity, result.anomalyScore, result.label)
        seen.insert(device)
        if let episode = result.episode, open[device]?.id == episode,
           peaks[device].map({ result.anomalyScore > $0.score }) ?? true {
            // The first result of an episode a silence opened is its first peak.
            peaks[device] = (result.voltage, result.severity, result.anomalyScore)
        }
        if resultsOff { return }
        if resultIntervalMs > 0 {
            if let sent = lastResultSentMs[device], result.timestampMs - sent < resultIntervalMs, result.timestampMs >= sent { return }
            lastResultSentMs[device] = result.timestampMs
        }
        if results.count >= capacity {
            results.removeFirst(results.count - capacity + 1)
            droppedResults += 1
        }
        results.append((device, result))
    }

    mutating func note(_ change: EpisodeTracker.Change, device: String) {
        let label = last[device]?.label
        switch change {
        case .none:
            break
        case .opened(let episode):
            // An episode a silence opened (no samples yet) has no reading: no voltage, and the
            // threshold's band, warning, until the line comes back.
            let reading = episode.samples > 0 ? last[device] : nil
            peaks[device] = reading.map { ($0.voltage, $0.severity, $0.score) }
            open[device] = episode
            episodes.append(EpisodeMessage(event: .start, device: device, episode: episode, peakVoltage: reading?.voltage,
                                           severity: reading?.severity ?? .warning, name: label?.name, unit: label?.unit))
        case .extended(let episode):
            open[device] = episode
        case .closed(let episode):
            let peak = peaks.removeValue(forKey: device)
            open[device] = nil
            episodes.append(EpisodeMessage(event: .end, device: device, episode: episode, peakVoltage: peak?.voltage,
                                           severity: peak?.severity ?? .warning, name: label?.name, unit: label?.unit))
        }
    }

    /// A reload ends every open episode where it stands (as history does).
    mutating func endOpenEpisodes() {
        for (device, episode) in open.sorted(by: { $0.key < $1.key }) {
            note(.closed(episode.ended()), device: device)
        }
    }
}

/// Counts for tests, `/api/status`-like reporting and the benchmark.
public final class PublisherStats: Sendable {
    let published = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let connected = Atomic<Bool>(false)
    public var resultsPublished: Int { published.load(ordering: .relaxed) }
    public var resultsDropped: Int { dropped.load(ordering: .relaxed) }
    public var isConnected: Bool { connected.load(ordering: .relaxed) }
}

/// Runs a body on a thread of its own (libmosquitto's loop and blocking HTTP must not sit on
/// the Swift concurrency pool) and lets an async caller wait for it to end.
final class ThreadRunner: Sendable {
    private let done = Mutex<(finished: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    final class Job {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> ThreadRunner {
        let runner = ThreadRunner()
        let job = Job {
            body()
            let waiter = runner.done.withLock { state -> CheckedContinuation<Void, Never>? in
                state.finished = true
                return state.waiter
            }
            waiter?.resume()
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(job).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            job.body()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Job>.fromOpaque(box).release()
            job.body()
        }
        return runner
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = done.withLock { state -> Bool in
                if state.finished { return true }
                state.waiter = continuation
                return false
            }
            if finished { continuation.resume() }
        }
    }
}
