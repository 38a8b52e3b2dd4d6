import CoreMetrics
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// One connected client: its writer (draining the hub's mailbox onto the socket) and its
/// reader (client requests), for either protocol.
struct ClientSession: Sendable {
    let server: VoltServer
    let kind: ClientKind
    let credentials: ClientCredentials
    let channel: any Channel

    var hub: Hub { server.hub }

    // MARK: Shared parts

    /// Copies the hub's messages to the socket until the mailbox closes. A client that falls
    /// behind is told how many results it missed before the ones that survived.
    func runWriter(_ client: Hub.Client, outbound: WebSocketOutboundWriter) async throws {
        var batch: [SharedMessage] = []
        while let missed = await client.mailbox.next(into: &batch) {
            if missed > 0 {
                hub.recordDropped(missed)
                try await outbound.write(.text(WireText.text(kind, event: "missed",
                    dataJSON: "{\"count\":\(missed),\"message\":\"you fell behind: \(missed) messages were dropped\"}")))
            }
            for message in batch {
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: message.buffer(for: kind))))
            }
            hub.metrics.messagesSent.increment(by: batch.count)
            batch.removeAll(keepingCapacity: true)
        }
    }

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

    func registerWithHub() -> Hub.Registration? {
        let channel = self.channel
        return hub.register(kind: kind) { channel.close(promise: nil) }
    }

    static let tooManyClients = "too many clients are connected: try again later"
}
