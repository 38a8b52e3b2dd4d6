import FoundationEssentials
import Hummingbird
import Logging
import VoltCore
import VoltHistory

/// What the server does for a client request, whichever endpoint it came through.
extension VoltServer {
    /// The answer to `voltage_data`, given at once by the client's connection or session:
    /// the sample scored by that client's own scorer (``AppStreams``), or an `error`.
    func answerVoltageData(volts: Double, timestampMs: Int64?, device: String?,
                           streams: AppStreams) -> (event: String, dataJSON: String) {
        switch streams.score(volts: volts, timestampMs: timestampMs, device: device, nowMs: Now.epochMs) {
        case .success(let json): ("anomaly_result", json)
        case .failure(let refusal): ("error", WireText.errorData(refusal.description))
        }
    }

    /// The event that answers a simulation control. They wait for the fake device or the
    /// replay, so connections run them in a task; `voltage_data` needs the client's own
    /// scorers and is answered at once through ``answerVoltageData(volts:timestampMs:device:streams:)``.
    func perform(_ request: ClientRequest, logger: Logger) async -> (event: String, dataJSON: String) {
        switch request {
        case .voltageData:
            return ("error", WireText.errorData("voltage_data is answered by the client's connection"))
        case .startSimulation(let speed, let scenario):
            return await simulate(logger: logger) { try await $0.start(speed: speed, scenario: scenario) } answer: {
                ("simulation_started", "{\"speed\":" + (speed.map(JSONText.number) ?? "null")
                    + ",\"scenario\":" + (scenario.map(JSONText.string) ?? "null") + "}")
            }
        case .stopSimulation:
            return await simulate(logger: logger) { try await $0.stop() } answer: { ("simulation_stopped", "{}") }
        case .resetSimulation:
            return await simulate(logger: logger) { try await $0.reset() } answer: { ("simulation_started", "{\"reset\":true}") }
        case .summary(let device, let window):
            return summarize(device: device, window: window)
        }
    }

    private func summarize(device: String?, window: String) -> (event: String, dataJSON: String) {
        guard let history = configuration.history else {
            return ("error", WireText.errorData("history is off: start the agent without --no-history"))
        }
        do {
            let report = try Self.summary(store: history.currentStore(), device: device,
                                          windowMs: HistorySummary.window(window) ?? 86_400_000)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return ("summary", String(decoding: try encoder.encode(report), as: UTF8.self))
        } catch let error as HTTPError {
            return ("error", WireText.errorData(error.body ?? "\(error)"))
        } catch {
            return ("error", WireText.errorData("history cannot be read now: \(error)"))
        }
    }

    private func simulate(
        logger: Logger,
        _ action: (any SimulationControl) async throws -> Void,
        answer: () -> (String, String)
    ) async -> (event: String, dataJSON: String) {
        guard let simulation else {
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

    static let tooManyClients = "too many clients are connected: try again later"
}
