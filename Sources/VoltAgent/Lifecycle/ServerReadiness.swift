#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VoltCore
import VoltServer

/// The server as systemd readiness sees it: whether it accepts connections yet, and how many
/// clients it serves (for the status line).
///
/// "Listening" is checked by connecting to the port on the loopback (or the configured
/// address), which is true whatever the server's internals do; the probe connection is
/// closed at once.
struct ServerReadiness: Sendable {
    /// Where to probe; nil: no server (`--no-serve`), ready at once.
    let host: String?
    let port: Int
    /// The server's hub, for the client count.
    let hub: Hub?

    init(options: AgentOptions, sink: (any AgentEventSink)?) {
        host = options.serve ? Self.probeHost(options.host) : nil
        port = options.port
        hub = sink as? Hub
    }

    /// The address to connect to for a listen address: the wildcard ones mean "every
    /// interface", so the loopback of the same family answers.
    static func probeHost(_ listen: String) -> String {
        switch listen {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "::1"
        default: listen
        }
    }

    /// WebSocket and Socket.IO clients connected now; nil without a server.
    func clients() -> Int? { hub?.clientCount }

    /// Returns once a TCP connection to the server succeeds (every 20 ms); throws only when
    /// cancelled (shutdown before the server came up).
    func wait() async throws {
        guard let host else { return }
        while !Self.accepts(host: host, port: port) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func accepts(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(first) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let fd = socket(current.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                let ok = connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0
                close(fd)
                if ok { return true }
            }
            entry = current.pointee.ai_next
        }
        return false
    }
}
