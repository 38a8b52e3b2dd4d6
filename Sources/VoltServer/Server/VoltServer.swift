public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
import NIOPosix
public import Prometheus
public import ServiceLifecycle
public import VoltCore

/// The network edge of voltwatch: HTTP API, `/ws`, `/socket.io/`, `/metrics`, all on one port
/// through hummingbird and NIO (no HTTP or WebSocket parsing of our own), fed by the ``Hub``.
///
/// A `Service`: ``run()`` serves until graceful shutdown, when every WebSocket client gets a
/// close frame and the server stops within ``VoltServerConfiguration/closeTimeoutMs``.
public struct VoltServer: Service, CustomStringConvertible {
    public let configuration: VoltServerConfiguration
    /// The sink the serial side publishes into.
    public let hub: Hub
    let simulation: (any SimulationControl)?
    let registry: PrometheusCollectorRegistry
    let policy: AccessPolicy
    let cors: CORSPolicy
    let appScorers: AppScorers
    /// `POST /api/replay` uploads in progress, at most ``VoltServerConfiguration/maxConcurrentUploads``.
    let uploads: UploadGate
    /// Engine.IO long-polling sessions.
    let polling: PollingSessions
    let logger: Logger
    private let listening = ListeningSignal()

    /// - Parameters:
    ///   - registry: where `/metrics` reads from; pass ``VoltServerMetrics/bootstrap()``'s
    ///     registry in the executable, nil for a private one (tests).
    public init(
        configuration: VoltServerConfiguration,
        modelConfig: ModelConfig,
        modelConfigSource: String,
        simulation: (any SimulationControl)?,
        registry: PrometheusCollectorRegistry? = nil,
        logger: Logger
    ) {
        let registry = registry ?? PrometheusCollectorRegistry()
        self.configuration = configuration
        self.registry = registry
        let metricsFactory = VoltServerMetrics.makeFactory(registry: registry)
        self.hub = Hub(configuration: configuration.hub, modelConfig: modelConfig, modelConfigSource: modelConfigSource,
                       metricsFactory: metricsFactory)
        self.simulation = simulation
        self.policy = AccessPolicy(token: configuration.token, allowedOrigins: configuration.allowedOrigins)
        self.cors = CORSPolicy(corsOrigins: configuration.corsOrigins, token: configuration.token,
                               allowedOrigins: configuration.allowedOrigins)
        self.appScorers = AppScorers(hub: hub, limit: configuration.maxAppScorers, metricsFactory: metricsFactory)
        self.uploads = UploadGate(limit: configuration.maxConcurrentUploads)
        self.polling = PollingSessions(limit: configuration.hub.maxClients)
        self.logger = logger
    }

    /// What service-lifecycle logs: the address, never the configuration (it holds the token).
    public var description: String { "VoltServer(\(configuration.host):\(configuration.port))" }

    public func run() async throws {
        if let shortfall = DescriptorLimit.raise(maxClients: configuration.hub.maxClients,
                                                 maxConnections: configuration.connectionLimit) {
            logger.warning("too few descriptors for the clients allowed", metadata: ["reason": "\(shortfall)"])
        }
        // Polls wait up to a ping interval for data: on shutdown their sessions close at once,
        // so no request holds the server past the close timeout.
        let polling = self.polling
        let (host, port) = (configuration.host, configuration.port)
        try await withGracefulShutdownHandler {
            do {
                try await makeApplication(onServerRunning: { [listening] _ in listening.fire() }).run()
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                throw PortInUse(host: host, port: port)
            }
        } onGracefulShutdown: {
            polling.closeAll()
        }
        // WebSocket clients outlive hummingbird's connection tasks: give them the close timeout
        // to answer their close frames before the process moves on.
        let deadline = ContinuousClock.now + .milliseconds(configuration.closeTimeoutMs + 100)
        while hub.clientCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Returns once the server accepts connections (after ``run()`` has bound its port);
    /// throws `CancellationError` if cancelled first.
    public func waitUntilListening() async throws {
        try await listening.wait()
    }

    /// The hummingbird application; tests drive it with `app.test(.live)`. `eventLoopGroup`:
    /// where connections are served (default: NIO's shared group).
    public func makeApplication(
        eventLoopGroup: (any EventLoopGroup)? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            server: HTTPServerBuilder { [self] responder in VoltChildChannel(responder: responder, server: self) },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "voltwatch/\(VoltwatchVersion.string)",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.connectionLimit, logger: logger)
            ),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton),
            logger: logger
        )
    }
}
