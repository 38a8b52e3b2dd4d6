import CoreMetrics
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// One connected client: its reader (client requests), for either protocol. Broadcasts do not
/// pass through the session: the hub writes them through the client's ``ClientOutlet`` on the
/// channel's event loop.
struct ClientSession: Sendable {
    let server: VoltServer
    let kind: ClientKind
    let credentials: ClientCredentials
    let channel: any Channel

    var hub: Hub { server.hub }

    // MARK: Shared parts

    /// Acts on a client request and returns the events that answer it.
    func perform(_ request: ClientRequest, logger: Logger) async -> (event: String, dataJSON: String) {
        switch request {
        case .voltageData(let volts, let timestampMs):
            return ("anomaly_result", server.appScorer.score(volts: volts, timestampMs: timestampMs))
        case .startSimulation(let speed, let scenario):
            return await simulate(logger: logger) { try await $0.start(speed: speed, scenario: scenario) } answer: {
                ("simulation_started", "{\"speed\":" + (speed.map(JSONText.number) ?? "null")
                    + ",\"scenario\":" + (scenario.map(JSONText.string) ?? "null") + "}")
            }
        case .stopSimulation:
            return await simulate(logger: logger) { try await $0.stop() } answer: { ("simulation_stopped", "{}") }
        case .resetSimulation:
            return await simulate(logger: logger) { try await $0.reset() } answer: { ("simulation_started", "{\"reset\":true}") }
        }
    }

    private func simulate(
        logger: Logger,
        _ action: (any SimulationControl) async throws -> Void,
        answer: () -> (String, String)
    ) async -> (event: String, dataJSON: String) {
        guard let simulation = server.simulation else {
            return ("error", WireText.errorData(
                "no fake device or replay runs: start the agent with 'voltwatch run --fake SCENARIO' to steer a simulation"))
        }
        do {
            try await action(simulation)
            return answer()
        } catch {
            logger.info("simulation control failed", metadata: ["error": "\(error)"])
            return ("error", WireText.errorData("simulation control failed: \(error)"))
        }
    }

    /// Puts a ``ClientOutlet`` into the channel and joins the hub; nil when the hub is full.
    /// The caller writes `hello` with ``Hub/Client/open(helloText:)`` and unregisters at the end.
    func registerWithHub() async throws -> Hub.Registration? {
        let tally = ClientTally()
        let outlet = try await ClientOutlet.install(
            on: channel, kind: kind, capacity: hub.configuration.queueCapacity,
            overBudgetGraceMs: hub.configuration.slowClientGraceMs, tally: tally, metrics: hub.metrics)
        return hub.register(kind: kind, outlet: outlet, tally: tally)
    }

    static let tooManyClients = "too many clients are connected: try again later"
}
