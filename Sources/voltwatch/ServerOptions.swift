import ArgumentParser
import VoltAgent

/// The server's command-line options, shared by every command that serves clients.
struct ServerOptions: ParsableArguments {
    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port for HTTP and WebSocket.")
    var port = 5000

    func apply(to options: inout AgentOptions) {
        options.host = host
        options.port = port
    }
}
