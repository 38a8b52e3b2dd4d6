import ArgumentParser
import Logging
import VoltAgent
import VoltCore
import VoltSerial

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: find the board, score every sample, serve the results.",
        discussion: """
            Finds Arduinos and USB-serial bridges through udev (Arduino 2341/2a03, CH340, FTDI, \
            CP210x), opens each at 115200 8N1, scores every frame and pushes results to \
            WebSocket clients. With no board plugged in it waits, and picks boards up as they \
            are plugged in; an unplugged board is picked up again when it returns.

            SIGTERM or SIGINT stop it gracefully (clients get close frames, the recording is \
            flushed, exit 0). SIGHUP re-reads the configuration and settings files without \
            closing the port or dropping clients; an invalid file is refused (the log names the \
            key) and the old one stays. A bad file at start exits 78. Started by systemd \
            (Type=notify, see systemd/voltwatch.service), it reports readiness, watchdog \
            pings and a status line; `voltwatch doctor` explains a board it cannot read.

            Examples:
              voltwatch run                                 discover boards, serve on :5000
              voltwatch run --device /dev/ttyACM0 --print   one port, results on stdout
              voltwatch run --device 2341:0043 --record /var/lib/voltwatch/rec
              voltwatch run --fake spikes                   an in-process fake board
              voltwatch run --fake spikes --channels 3      a fake board with A0-A2

            History (the values per second for a week, per minute for a year, and every alarm \
            with the signal around it) is kept in a SQLite file in --data-dir and served by \
            /api/history, /api/anomalies, /api/summary and the dashboard; it survives restarts. \
            A store that cannot be written (full disk, read-only, damaged) is reported in \
            /api/status and the log while live data keeps flowing, and retried every second.

            A board that sends several channels ($VOLTS) publishes each as its own stream, \
            <device>/<channel>, scored on its own. The settings file (--settings) names a \
            stream, gives its unit, calibration and limits; `voltwatch calibrate` writes it.
            """
    )

    @Option(name: .customLong("device"), help: ArgumentHelp(
        "Read this board instead of discovering: a path (/dev/ttyACM0, /dev/serial/by-id/...), a USB id (2341:0043, 1a86:*) or a serial number. Repeat for several.",
        valueName: "device"))
    var devices: [String] = []

    @Option(help: "Baud rate.")
    var baud = 115_200

    @Flag(help: "Also write every result as a JSON line to standard output (the server still runs: add --no-serve to only print).")
    var print = false

    @Option(help: ArgumentHelp("Record raw lines with receive times into this directory (<device>-YYYYMMDD-HH.rec).", valueName: "dir"))
    var record: String?

    @Option(help: ArgumentHelp("Run an in-process fake board playing this scenario (\(FakeScenario.names)).", valueName: "scenario"))
    var fake: String?

    @OptionGroup var config: ConfigOption

    @OptionGroup var settings: SettingsOption

    @Flag(name: .customLong("no-serve"), help: "Do not serve HTTP/WebSocket (use with --print or --record).")
    var noServe = false

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "Keep history (history.sqlite) here (default: $STATE_DIRECTORY under systemd, else /var/lib/voltwatch when writable, else ~/.local/share/voltwatch).",
        valueName: "dir"))
    var dataDir: String?

    @Flag(name: .customLong("no-history"), help: "Keep no history: /api/history, /api/summary and /api/episode answer 404, /api/anomalies lists what is in memory.")
    var noHistory = false

    @Option(name: .customLong("history-detail-days"), help: ArgumentHelp("Keep per-second aggregates this many days (then per-minute ones only).", valueName: "days"))
    var historyDetailDays = 7.0

    @Option(name: .customLong("history-days"), help: ArgumentHelp("Keep per-minute aggregates and alarm episodes this many days.", valueName: "days"))
    var historyDays = 365.0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("reset-delay-ms"), help: ArgumentHelp("Silence to allow after opening a board that resets (default 2000; 0 with --fake).", visibility: .hidden))
    var resetDelayMs: Int?

    @Option(name: .customLong("watchdog-periods"), help: ArgumentHelp("Reopen a port silent for this many sample periods.", visibility: .hidden))
    var watchdogPeriods = 50

    @Option(name: .customLong("backoff-ms"), help: ArgumentHelp("First reconnect delay, milliseconds (doubles up to --max-backoff-ms).", visibility: .hidden))
    var backoffMs = 250

    @Option(name: .customLong("max-backoff-ms"), help: ArgumentHelp("Longest reconnect delay, milliseconds.", visibility: .hidden))
    var maxBackoffMs = 5_000

    @Option(name: .customLong("poll-ms"), help: ArgumentHelp("Re-enumerate this often where udev events do not arrive, milliseconds.", visibility: .hidden))
    var pollMs = 2_000

    @Option(name: .customLong("fake-period-ms"), help: ArgumentHelp("Frame period of the --fake board, milliseconds.", visibility: .hidden))
    var fakePeriodMs = 100

    @Option(name: .customLong("fake-seed"), help: ArgumentHelp("Seed of the --fake board's scenario.", visibility: .hidden))
    var fakeSeed: UInt64 = 1

    @Option(help: ArgumentHelp("With --fake: analog channels the fake board samples, 1 to 6 (A0 plays the scenario).", valueName: "n"))
    var channels = 1

    @Option(name: .customLong("mqtt"), help: ArgumentHelp(
        "Publish status, results and alarms to this MQTT broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]. Credentials, TLS files and the rest go in the settings file's \"mqtt\" object (docs/mqtt.md), never here.",
        valueName: "url"))
    var mqtt: String?

    @OptionGroup var server: ServerOptions

    func validate() throws {
        for device in devices {
            do { _ = try DeviceFilter.parse(device) } catch { throw ValidationError(error.description) }
        }
        if let fake, FakeScenario(rawValue: fake) == nil {
            throw ValidationError("--fake \(fake): unknown scenario; choose one of \(FakeScenario.names)")
        }
        if !(1...6).contains(channels) { throw ValidationError("--channels must be from 1 to 6 (an Uno's A0-A5); got \(channels)") }
        if channels > 1 && fake == nil { throw ValidationError("--channels is for --fake: a real board reports its channels itself") }
        if baud <= 0 { throw ValidationError("--baud must be positive (the firmware uses 115200)") }
        if backoffMs <= 0 || maxBackoffMs < backoffMs { throw ValidationError("--backoff-ms must be positive and at most --max-backoff-ms") }
        if watchdogPeriods < 2 { throw ValidationError("--watchdog-periods must be at least 2") }
        if noHistory && dataDir != nil { throw ValidationError("--no-history and --data-dir exclude each other") }
        if !(historyDetailDays > 0 && historyDays >= historyDetailDays && historyDays <= 36_600) {
            throw ValidationError("--history-detail-days must be positive and at most --history-days (at most 36600)")
        }
        if let mqtt, MQTTSettings.endpoint(mqtt) == nil {
            throw ValidationError("--mqtt \(mqtt): must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], without user or password (put username and password_file in the settings file)")
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \(logLevel): choose trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let logger = AgentLogging.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info)
        AgentMetrics.bootstrap()
        let resolved = try config.resolve()
        var options = AgentOptions(config: resolved.config, configSource: resolved.source, configPath: resolved.reloadPath)
        options.settings = try settings.resolve()
        options.settingsPath = settings.path
        options.deviceFilters = devices
        options.baudRate = baud
        options.fakeScenario = fake
        options.printResults = print
        options.recordDirectory = record
        server.apply(to: &options)
        let directory = DataDirectory.resolve(dataDir)
        let historyFile = directory + "/history.sqlite"
        let outboxFile = directory + "/outbox.sqlite"
        options.historyPath = noHistory ? nil : historyFile
        options.historyDetailDays = historyDetailDays
        options.historyDays = historyDays
        options.mqttURL = mqtt
        // Episodes waiting for the broker or a webhook: a table of the history store (one
        // file to keep and back up), or a small file of their own without history. Rows left
        // in the other place (history turned on or off since) move over when it opens.
        options.outboxPath = noHistory ? outboxFile : historyFile
        options.otherOutboxPaths = [noHistory ? historyFile : outboxFile]
        if options.corsOrigins == nil { options.corsOrigins = options.settings.corsOrigins }
        if noServe { options.serve = false }

        var serial = SerialAgentOptions()
        serial.resetDelayMs = resetDelayMs
        serial.watchdogPeriods = watchdogPeriods
        serial.reconnect = ReconnectPolicy(initialDelayMs: backoffMs, maxDelayMs: maxBackoffMs)
        serial.pollIntervalMs = pollMs
        serial.fake.periodMs = fakePeriodMs
        serial.fake.seed = fakeSeed
        serial.fake.channels = channels

        logger.info("voltwatch \(VoltwatchVersion.string) starting", metadata: ["config": "\(resolved.source)"])
        let agent: Agent
        do {
            agent = try Agent(options: options, serial: serial, logger: logger)
        } catch let error as RecorderError {
            StandardError.write("run: \(error.description)\n")
            throw ExitCode(ExitStatus.cannotCreate)
        } catch {
            StandardError.write("run: \(error)\n")
            throw ExitCode(1)
        }
        if let fake = agent.fake { logger.info("fake device on \(fake.devicePath)") }
        try await agent.run()
    }
}

/// Logging for the long-running commands: to standard error, so `--print` output on standard
/// output stays pure JSON lines. Bootstrapped once per process.
enum AgentLogging {
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "voltwatch")
    }
}
