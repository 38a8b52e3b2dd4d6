public import VoltCore

/// Everything `voltwatch run` can be told, gathered by the command line and handed to the
/// agent. The serial side reads the serial fields, the server side the server fields.
public struct AgentOptions: Sendable {
    // MARK: Scoring
    /// The configuration in effect.
    public var config: ModelConfig
    /// Where it came from (a path, or "built-in defaults"); reloads read this path again.
    public var configSource: String
    /// The path to re-read on SIGHUP, when the configuration came from a file.
    public var configPath: String?
    /// Names, units and calibrations of the streams (the settings file).
    public var settings: AgentSettings = .empty
    /// `--settings`: the settings file to re-read on SIGHUP; nil looks along
    /// ``AgentSettingsFile/searchPath`` each time (so a file `calibrate` just created counts).
    public var settingsPath: String?

    // MARK: Serial
    /// Device filters (`--device`): paths, by-id/by-path links, VID:PID, serial numbers.
    /// Empty means auto-discovery of known boards.
    public var deviceFilters: [String] = []
    /// Baud rate for real ports.
    public var baudRate: Int = 115_200
    /// Run an in-process fake device with this generator scenario (`run --fake SCENARIO`).
    public var fakeScenario: String?
    /// Write every result as a JSON line to standard output (`--print`).
    public var printResults = false
    /// Keep raw lines with receive times in this directory (`--record DIR`).
    public var recordDirectory: String?

    // MARK: History
    /// The history database (`<data dir>/history.sqlite`); nil with `--no-history`.
    public var historyPath: String?
    /// How long per-second aggregates are kept, days (then only per-minute ones).
    public var historyDetailDays = 7.0
    /// How long per-minute aggregates and episodes are kept, days.
    public var historyDays = 365.0

    // MARK: Publishing
    /// `run --mqtt URL`: publish to this broker (the settings' `"mqtt"` object gives the rest).
    public var mqttURL: String?
    /// The outbox of episodes waiting for the broker or a webhook: the history store, or
    /// `<data dir>/outbox.sqlite` without history.
    public var outboxPath: String?
    /// Where rows may still wait from a run with history on (or off): moved into `outboxPath`.
    public var otherOutboxPaths: [String] = []

    // MARK: Server
    /// Serve HTTP + WebSocket (false only for tests and pure `--print` use).
    public var serve = true
    public var host = "0.0.0.0"
    public var port = 5000
    /// Token required on every endpoint but `/api/health`; nil means no authentication.
    public var token: String?
    /// Origins browsers may connect from; empty means any.
    public var allowedOrigins: [String] = []
    /// Origins whose web pages may read the REST API (`*`: any); nil: the default (any
    /// without a token, the allowed origins or none with one; see DESIGN.md).
    public var corsOrigins: [String]?
    /// Most WebSocket clients served at once.
    public var maxClients = 2_000
    /// Largest message a client may send, bytes.
    public var maxClientMessageBytes = 16 * 1024
    /// Largest upload accepted by `POST /api/replay`, bytes.
    public var maxReplayUploadBytes = 64 * 1024 * 1024
    /// WebSocket / Engine.IO ping period, seconds; a client silent for about this long after
    /// a ping is dropped.
    public var pingIntervalSeconds = 25.0
    /// Messages a WebSocket client may have waiting before the oldest are dropped.
    public var clientQueueCapacity = 256
    /// How long a client may keep dropping messages before it is disconnected, seconds.
    public var slowClientGraceSeconds = 10.0
    /// How long a connection may take to send a complete request, and an HTTP connection may
    /// sit idle between requests, seconds.
    public var idleTimeoutSeconds = 30.0
    /// Most open connections of any kind; nil: `maxClients` plus 256.
    public var maxConnections: Int?

    public init(config: ModelConfig, configSource: String, configPath: String? = nil) {
        self.config = config
        self.configSource = configSource
        self.configPath = configPath
    }
}
