import Logging
import ServiceLifecycle
import VoltCore
import VoltServer
import VoltHistory

/// What the network half gives the agent: the sink that receives every ``AgentEvent`` (the
/// server's hub), the services to run beside the serial ones, and what readiness and the
/// status line ask of it.
struct AgentServer: Sendable {
    var sink: (any AgentEventSink)?
    var services: [any Service]
    /// Returns once the server accepts connections (at once without a server).
    var waitUntilListening: @Sendable () async throws -> Void
    /// WebSocket and Socket.IO clients connected now; nil without a server.
    var clientCount: @Sendable () -> Int?

    static let none = AgentServer(sink: nil, services: [], waitUntilListening: {}, clientCount: { nil })
}

extension AgentServerFactory {
    static func makeServer(
        options: AgentOptions,
        simulation: (any SimulationControl)?,
        history: (any HistorySource)?,
        logger: Logger
    ) throws -> AgentServer {
        guard options.serve else { return .none }
        var configuration = serverConfiguration(options)
        configuration.history = history
        let server = VoltServer(
            configuration: configuration,
            modelConfig: options.config,
            modelConfigSource: options.configSource,
            simulation: simulation,
            // The executable bootstraps swift-metrics once (AgentMetrics.bootstrap()); without
            // it /metrics still reports the server's own figures from a private registry.
            registry: VoltServerMetrics.bootstrappedRegistry,
            logger: logger
        )
        let hub = server.hub
        return AgentServer(
            sink: hub, services: [server],
            waitUntilListening: { try await server.waitUntilListening() },
            clientCount: { hub.clientCount })
    }

    /// The server's view of the options.
    static func serverConfiguration(_ options: AgentOptions) -> VoltServerConfiguration {
        var configuration = VoltServerConfiguration()
        configuration.host = options.host
        configuration.port = options.port
        configuration.token = options.token
        configuration.allowedOrigins = options.allowedOrigins
        configuration.corsOrigins = options.corsOrigins
        configuration.maxClientMessageBytes = options.maxClientMessageBytes
        configuration.maxReplayUploadBytes = options.maxReplayUploadBytes
        configuration.pingIntervalMs = Int64(options.pingIntervalSeconds * 1000)
        configuration.pingTimeoutMs = max(Int64(options.pingIntervalSeconds * 800), 1000)
        configuration.idleTimeoutMs = Int64(options.idleTimeoutSeconds * 1000)
        configuration.maxConnections = options.maxConnections
        configuration.hub.maxClients = options.maxClients
        configuration.hub.queueCapacity = max(options.clientQueueCapacity, 1)
        configuration.hub.slowClientGraceMs = Int64(options.slowClientGraceSeconds * 1000)
        configuration.hub.staleAfterMs = max(Int64(options.config.dropoutTimeoutMs.rounded()), 1000)
        return configuration
    }
}

/// Namespace for the server wiring, so `Agent.swift` (serial side) and
/// `Agent+Server.swift` (server side) can be written separately.
enum AgentServerFactory {}

/// Process-wide metrics set-up, for the executable to call once before starting the agent.
public enum AgentMetrics {
    /// Bootstraps swift-metrics with the Prometheus registry `/metrics` serves, so figures
    /// recorded anywhere in the process (the serial reader's too) appear there.
    public static func bootstrap() {
        VoltServerMetrics.bootstrap()
    }
}
