#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
public import ServiceLifecycle
import UnixSignals
import VoltCore
public import VoltHistory
public import VoltPublish
public import VoltSerial

/// The composition root: builds every service of `voltwatch run` from the options and runs
/// them in one ``ServiceGroup`` that shuts down on SIGTERM or SIGINT.
///
/// Serial and server never see each other: the serial side publishes ``AgentEvent``s into a
/// fan-out of sinks (the server's hub, `--print`), and the server steers the fake device
/// through ``SimulationControl``.
///
/// Beside them run the lifecycle services: ``ConfigReloader`` (SIGHUP re-reads
/// `model_config.json`) and, under systemd, ``SystemdNotifier`` (readiness, watchdog, status).
public struct Agent {
    public let options: AgentOptions
    public let serial: SerialAgentOptions
    /// Every service, in start order (shutdown runs in reverse: readers stop before the
    /// recorder writes its last lines).
    public let services: [any Service]
    /// The in-process fake device, when `--fake` asked for one.
    public let fake: FakeDevice?
    /// The scoring configuration in force; SIGHUP replaces it.
    public let liveConfig: LiveConfig
    /// Every working loop reports alive here; the systemd watchdog pings only while all do.
    public let heartbeats = LoopHeartbeats()
    /// Where results and statuses go (every sink, fanned out).
    let sink: EventFanout
    /// The history recorder, unless `--no-history`.
    public let history: HistoryRecorder?
    /// MQTT and webhook publishing, when `--mqtt` or the settings ask for it.
    public let publisher: MQTTPublisher?
    /// The server's sink (its hub), when serving.
    let server: AgentServer
    /// systemd's notification socket, when started by systemd with `Type=notify`.
    let notify: NotifySocket?
    /// Feeds the `STATUS=` line, when ``notify`` is set.
    let status: StatusSink?
    let logger: Logger

    /// Longest graceful shutdown before the group cancels what is left; well below systemd's
    /// default TimeoutStopSec of 90 s.
    public static let shutdownLimit: Duration = .seconds(10)

    public init(options: AgentOptions, serial: SerialAgentOptions = SerialAgentOptions(), logger: Logger) throws {
        self.options = options
        self.serial = serial
        self.logger = logger

        var filters: [DeviceFilter] = []
        for value in options.deviceFilters { filters.append(try DeviceFilter.parse(value)) }

        var names: [String: String] = [:]
        var fake: FakeDevice?
        if let scenarioName = options.fakeScenario {
            guard let scenario = FakeScenario(rawValue: scenarioName) else {
                throw AgentError("unknown --fake scenario '\(scenarioName)'; choose one of \(FakeScenario.names)")
            }
            var fakeOptions = serial.fake
            fakeOptions.scenario = scenario
            let device = try FakeDevice(options: fakeOptions, logger: logger)
            names[device.devicePath] = "fake"
            filters.append(.path(device.devicePath))
            fake = device
        }
        self.fake = fake
        let liveConfig = LiveConfig(options.config, settings: options.settings)
        self.liveConfig = liveConfig

        var notify: NotifySocket?
        do {
            notify = try NotifySocket.fromEnvironment()
        } catch {
            logger.warning("not telling systemd about readiness: \(error.description)")
        }
        self.notify = notify
        self.status = notify == nil ? nil : StatusSink()

        var reader = ReaderOptions(config: options.config)
        reader.settings = options.settings
        reader.baudRate = options.baudRate
        reader.resetDelayMs = serial.resetDelayMs ?? (fake != nil && options.deviceFilters.isEmpty ? 0 : 2_000)
        reader.watchdogPeriods = serial.watchdogPeriods
        reader.reconnect = serial.reconnect

        let recorder = try options.recordDirectory.map { directory throws(RecorderError) in
            try Recorder(options: Recorder.Options(directory: directory), logger: logger)
        }
        let history = options.historyPath.map { path in
            Self.openHistory(path: path, options: options, logger: logger)
        }
        self.history = history
        // A store that cannot be written may still be read (locked, on a read-only disk):
        // reading the ids there keeps new alarms from reusing ids history already holds.
        if let history, let ids = (try? history.currentStore().nextEpisodeIDs())
            ?? (try? HistoryStore(path: history.options.path, readOnly: true).nextEpisodeIDs()) {
            // Episode ids go on from what history holds, so an id names one alarm for good.
            reader.firstEpisodeIDs = ids
        }
        let server = try AgentServerFactory.makeServer(options: options, simulation: fake, history: history, logger: logger)
        var sinks: [any AgentEventSink] = []
        if let hub = server.sink { sinks.append(hub) }
        if let history { sinks.append(history) }
        if options.printResults { sinks.append(PrintSink()) }
        if let status { sinks.append(status) }
        var publisher: MQTTPublisher?
        if let outboxPath = options.outboxPath {
            // Always there, idle until `--mqtt` or the settings (now or after a SIGHUP, read
            // through the live configuration) name a broker or a webhook.
            var publishing = MQTTPublisher.Options(commandLineURL: options.mqttURL, outboxPath: outboxPath)
            publishing.otherOutboxPaths = options.otherOutboxPaths
            publisher = MQTTPublisher(options: publishing, settings: { liveConfig.settings }, logger: logger)
        }
        if let publisher { sinks.append(publisher) }
        self.publisher = publisher
        self.sink = EventFanout(sinks)
        self.server = server

        // With --fake alone, read only the fake; otherwise discover boards as usual.
        let selector = DeviceSelector(filters: filters)
        let discover = selector.usesDiscovery && !(fake != nil && options.deviceFilters.isEmpty)
        let registry = discover ? DeviceRegistry() : nil
        let readerSelector = discover ? selector : DeviceSelector(filters: filters.filter { if case .path = $0 { true } else { false } })

        var services: [any Service] = []
        if let recorder { services.append(recorder) }
        if let history { services.append(history) }
        if let publisher { services.append(publisher) }
        services += server.services
        if let fake { services.append(fake) }
        if let registry {
            services.append(DiscoveryService(registry: registry, selector: selector, pollIntervalMs: serial.pollIntervalMs,
                                             logger: logger, heartbeats: heartbeats))
        }
        services.append(SerialService(
            options: reader, selector: readerSelector, names: names, registry: registry,
            sink: sink, recorder: recorder, logger: logger, heartbeats: heartbeats, liveConfig: liveConfig))
        self.services = services
    }

    /// Runs until SIGTERM/SIGINT (or until a service fails). SIGHUP reloads the configuration.
    public func run() async throws {
        // Trap SIGHUP before anything can tell systemd "ready": its default action kills.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let readiness = ServerReadiness(server: server)
        var all = services
        all.append(ConfigReloader(
            hangups: hangups, path: options.configPath, settingsPath: options.settingsPath, live: liveConfig, sink: sink,
            notify: notify, status: status, clients: { readiness.clients() }, logger: logger))
        if let notify, let status {
            // Last: the first told to shut down, so STOPPING=1 goes out at once.
            all.append(SystemdNotifier(
                socket: notify, watchdog: WatchdogSchedule.fromEnvironment(), heartbeats: heartbeats,
                status: status, readiness: readiness, logger: logger))
        }
        var configuration = ServiceGroupConfiguration(
            services: all.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = Self.shutdownLimit
        try await ServiceGroup(configuration: configuration).run()
    }
}

extension Agent {
    /// Opens (making its directory) the history store; one that cannot be opened is reported
    /// and retried, never fatal.
    static func openHistory(path: String, options: AgentOptions, logger: Logger) -> HistoryRecorder {
        var recorderOptions = HistoryRecorder.Options(path: path)
        recorderOptions.secondsRetentionMs = Int64(options.historyDetailDays * 86_400_000)
        recorderOptions.minutesRetentionMs = Int64(options.historyDays * 86_400_000)
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { _ = mkdir(directory, 0o750) }
        return HistoryRecorder(options: recorderOptions, logger: logger)
    }
}

/// A problem with the options `run` was given, saying how to fix it.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
