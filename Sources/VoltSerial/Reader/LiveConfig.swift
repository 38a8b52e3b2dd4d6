import Synchronization
public import VoltCore

/// The scoring configuration and the settings in force, replaced on reload (SIGHUP) while the
/// readers run.
///
/// Readers poll ``generation`` (one atomic load) on each pass of their loop and, when it
/// moved, fetch ``snapshot()`` and apply it to their stream: the port stays open and clients
/// stay connected.
public final class LiveConfig: Sendable {
    private struct State: Sendable {
        var config: ModelConfig
        var settings: AgentSettings
    }

    private let state: Mutex<State>
    private let counter = Atomic<Int>(0)

    public init(_ config: ModelConfig, settings: AgentSettings = .empty) {
        state = Mutex(State(config: config, settings: settings))
    }

    /// Bumped by every ``replace(with:settings:)``.
    public var generation: Int { counter.load(ordering: .acquiring) }

    public var current: ModelConfig { state.withLock { $0.config } }
    public var settings: AgentSettings { state.withLock { $0.settings } }

    /// The configuration, settings and the generation they belong to, read together.
    public func snapshot() -> (config: ModelConfig, settings: AgentSettings, generation: Int) {
        state.withLock { ($0.config, $0.settings, counter.load(ordering: .relaxed)) }
    }

    /// Puts `config` (and `settings`, when given) in force for every reader.
    public func replace(with config: ModelConfig, settings: AgentSettings? = nil) {
        state.withLock { current in
            current.config = config
            if let settings { current.settings = settings }
            counter.add(1, ordering: .releasing)
        }
    }
}
