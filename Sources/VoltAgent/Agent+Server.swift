import Logging
import ServiceLifecycle
import VoltCore

/// The network half of the agent: the server issue fills this in. Returns the sink that
/// receives every ``AgentEvent`` and the services to run beside the serial ones.
extension AgentServerFactory {
    static func makeServer(
        options: AgentOptions,
        simulation: (any SimulationControl)?,
        logger: Logger
    ) throws -> (sink: (any AgentEventSink)?, services: [any Service]) {
        (nil, [])
    }
}

/// Namespace for the server wiring, so `Agent.swift` (serial side) and
/// `Agent+Server.swift` (server side) can be written separately.
enum AgentServerFactory {}
