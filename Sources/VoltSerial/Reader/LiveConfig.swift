import Synchronization
public import VoltCore

/// The scoring configuration in force, replaced on reload (SIGHUP) while the readers run.
///
/// Readers poll ``generation`` (one atomic load) on each pass of their loop and, when it
/// moved, fetch ``current`` and apply it to their stream: the port stays open and clients
/// stay connected.
public final class LiveConfig: Sendable {
    private let state: Mutex<ModelConfig>
    private let counter = Atomic<Int>(0)

    public init(_ config: ModelConfig) { state = Mutex(config) }

    /// Bumped by every ``replace(with:)``.
    public var generation: Int { counter.load(ordering: .acquiring) }

    public var current: ModelConfig { state.withLock { $0 } }

    /// The configuration and the generation it belongs to, read together.
    public func snapshot() -> (config: ModelConfig, generation: Int) {
        state.withLock { ($0, counter.load(ordering: .relaxed)) }
    }

    /// Puts `config` in force for every reader.
    public func replace(with config: ModelConfig) {
        state.withLock { current in
            current = config
            counter.add(1, ordering: .releasing)
        }
    }
}
