/// The server as systemd readiness sees it: whether it accepts connections yet (the server
/// says so itself once its port is bound: a probe of the port would also be answered by
/// another program already listening there), and how many clients it serves (for the
/// status line).
struct ServerReadiness: Sendable {
    let server: AgentServer

    /// WebSocket and Socket.IO clients connected now; nil without a server.
    func clients() -> Int? { server.clientCount() }

    /// Returns once the server listens (at once with `--no-serve`); throws only when
    /// cancelled (shutdown before the server came up).
    func wait() async throws {
        try await server.waitUntilListening()
    }
}
