public import Logging
import ServiceLifecycle
import UnixSignals
import VoltCore
import VoltHistory
import VoltServer

/// `voltwatch serve --db FILE`: the HTTP API and dashboard over a stored history, read-only,
/// with no board: a day's recording replayed with `replay --db` can be browsed like live.
public enum HistoryBrowser {
    public static func run(path: String, options: AgentOptions, logger: Logger) async throws {
        let history = try ReadOnlyHistory(path: path)
        var configuration = AgentServerFactory.serverConfiguration(options)
        configuration.history = history
        let server = VoltServer(
            configuration: configuration, modelConfig: options.config, modelConfigSource: options.configSource,
            simulation: nil, registry: VoltServerMetrics.bootstrappedRegistry, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
