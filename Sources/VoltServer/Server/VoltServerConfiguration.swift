public import VoltHistory

/// How the server listens and whom it serves. Filled from the agent's options; every limit has
/// a default that suits a Raspberry Pi class gateway.
public struct VoltServerConfiguration: Sendable, CustomStringConvertible {
    public var host = "0.0.0.0"
    /// 5000, the original backend's port; 0 picks a free one (tests).
    public var port = 5000
    /// Token required on every endpoint but `/api/health`; nil means no authentication.
    public var token: String?
    /// Origins browsers may connect from; empty means any.
    public var allowedOrigins: [String] = []
    /// Origins whose web pages may read the REST API (`*`: any); nil: the default of
    /// ``CORSPolicy``, which depends on ``allowedOrigins`` and ``token``.
    public var corsOrigins: [String]?
    /// Largest message a client may send, bytes: a bigger one closes that client (1009).
    public var maxClientMessageBytes = 16 * 1024
    /// Largest `POST /api/replay` upload, bytes.
    public var maxReplayUploadBytes = 64 * 1024 * 1024
    /// Uploads scored at once by `POST /api/replay`; more are answered 503 (``UploadGate``).
    public var maxConcurrentUploads = 2
    /// WebSocket ping period on `/ws` and Engine.IO `pingInterval` on `/socket.io/`,
    /// milliseconds. A client that does not answer within the timeout is dropped.
    public var pingIntervalMs: Int64 = 25_000
    /// Engine.IO `pingTimeout`, milliseconds.
    public var pingTimeoutMs: Int64 = 20_000
    /// Most open connections of any kind (HTTP and WebSocket); at the limit the server stops
    /// accepting until one closes, so a flood of sockets cannot exhaust descriptors or memory.
    /// Nil: ``Hub/Configuration/maxClients`` plus 256 for the HTTP API.
    public var maxConnections: Int?
    /// ``maxConnections``, or its default when nil: the cap the server applies.
    public var connectionLimit: Int { maxConnections ?? hub.maxClients + 256 }
    /// How long a new connection may take to send its first complete request (a WebSocket
    /// handshake or an HTTP request), and how long an HTTP connection may sit idle between
    /// requests, milliseconds. A connection that sends nothing would otherwise hold its place
    /// for good. WebSocket clients are kept or dropped by the pings instead.
    public var idleTimeoutMs: Int64 = 30_000
    /// How long shutdown waits for a client to answer the close frame, milliseconds.
    public var closeTimeoutMs: Int64 = 500
    /// Most `voltage_data` scorers alive at once (one per client, or per client and app-given
    /// `device` name); a client that would need one more is told so with an `error` event.
    public var maxAppScorers = 256
    /// Queues, limits and history of the hub.
    public var hub = Hub.Configuration()
    /// Where `/api/history`, `/api/summary`, `/api/episode` and a stored `/api/anomalies`
    /// read from; nil: history is off (`--no-history`), and those answer 404 saying so.
    public var history: (any HistorySource)?

    public init() {}

    /// Everything but the token, which is only said to be set or not.
    public var description: String {
        "VoltServerConfiguration(\(host):\(port), token: \(token == nil ? "none" : "set"), origins: \(allowedOrigins), cors: \(corsOrigins.map { "\($0)" } ?? "default"), "
            + "maxClients: \(hub.maxClients), maxClientMessageBytes: \(maxClientMessageBytes))"
    }
}
