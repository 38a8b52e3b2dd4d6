/// What the serial side tells the rest of the agent. The serial and server layers never import
/// each other; they meet through this type and ``AgentEventSink``.
public enum AgentEvent: Sendable {
    /// A scored sample from `device`.
    case result(device: String, ScoredResult)
    /// An alarm episode of `device` opened, grew or ended with the result published just
    /// before (``DeviceStream/lastEpisodeChange``); the server keeps the list `/api/anomalies`
    /// reports.
    case episode(device: String, EpisodeTracker.Change)
    /// A device connected, disconnected or is being waited for.
    case deviceStatus(DeviceStatus)
    /// A board introduced itself with `$HELLO`.
    case hello(device: String, Hello)
    /// A device's stream health, published about once a second by its reader (and on
    /// disconnect), so the server can answer `/api/status` and `/metrics` from events alone.
    case counters(device: String, StreamCounters)
    /// The agent reloaded `model_config.json` (SIGHUP): from now on results are scored with
    /// `config`, which `hello` and `/api/model` report.
    case configReloaded(ModelConfig, source: String)
}

/// Receives ``AgentEvent``s. Called from the reader's context for every sample, so an
/// implementation must return quickly and never block (queue, don't send).
public protocol AgentEventSink: Sendable {
    func publish(_ event: AgentEvent)
}

extension AgentEventSink {
    /// Publishes each `(stream, change)` as an ``AgentEvent/episode(device:_:)``: the lists
    /// ``DeviceStream`` collects across its signals (silences, the episodes a `$HELLO` ended).
    public func publish(episodes: [(stream: String, change: EpisodeTracker.Change)]) {
        for (stream, change) in episodes { publish(.episode(device: stream, change)) }
    }
}

/// Lets clients steer a fake device or a replay (`start_simulation`, `stop_simulation`,
/// `reset_simulation`), when the agent runs one.
public protocol SimulationControl: Sendable {
    /// Starts (or resumes) feeding samples; `speed` multiplies real time, `scenario` picks a
    /// generator scenario where the source supports it.
    func start(speed: Double?, scenario: String?) async throws
    /// Pauses the source; the device stays connected but silent.
    func stop() async throws
    /// Rewinds the source to its beginning (seed and position).
    func reset() async throws
}
