#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import VoltAgent

/// The server's command-line options, shared by every command that serves clients.
struct ServerOptions: ParsableArguments {
    /// Where a token may come from when no option names one.
    static let tokenEnvironmentVariable = "VOLTWATCH_TOKEN"

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port for HTTP and WebSocket.")
    var port = 5000

    @Option(help: ArgumentHelp(
        "Token required on every endpoint but /api/health.",
        discussion: "Prefer --token-file or $VOLTWATCH_TOKEN: a token on the command line shows in 'ps'. "
            + "Clients send 'Authorization: Bearer <token>', '?token=<token>' or the Socket.IO auth {token}."))
    var token: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "Read the token from this file (first line, whitespace trimmed).", valueName: "path"))
    var tokenFile: String?

    @Option(name: .customLong("allowed-origin"), help: ArgumentHelp(
        "A browser origin allowed to connect, e.g. https://dash.example (repeatable; default: any).",
        valueName: "origin"))
    var allowedOrigins: [String] = []

    @Option(name: .customLong("cors-origin"), help: ArgumentHelp(
        "An origin whose web pages may read the REST API, or * for any (repeatable).",
        discussion: "Default: the --allowed-origin list if given; else * without a token, and same-origin only with one.",
        valueName: "origin"))
    var corsOrigins: [String] = []

    @Option(name: .customLong("max-clients"), help: "Most WebSocket clients served at once.")
    var maxClients = 2_000

    @Option(name: .customLong("max-connections"), help: ArgumentHelp(
        "Most open connections of any kind; at the limit new ones wait. (default: --max-clients + 256)",
        valueName: "n"))
    var maxConnections: Int?

    @Option(name: .customLong("max-message-bytes"), help: "Largest message a client may send; a bigger one closes that client.")
    var maxMessageBytes = 16 * 1024

    @Option(name: .customLong("max-replay-upload"), help: "Largest POST /api/replay upload, bytes.")
    var maxReplayUpload = 64 * 1024 * 1024

    @Option(name: .customLong("ping-interval"), help: "Seconds between keep-alive pings; unanswered clients are dropped.")
    var pingInterval = 25.0

    @Option(name: .customLong("client-queue"), help: "Messages a slow client may have waiting before the oldest are dropped.")
    var clientQueue = 256

    @Option(name: .customLong("slow-client-grace"), help: "Seconds a client may keep missing messages before it is disconnected.")
    var slowClientGrace = 10.0

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp(
        "Seconds a connection may take to send its first request, and an HTTP connection may stay idle.",
        discussion: "Closes connections that open and send nothing. WebSocket clients are kept by their pings instead."))
    var idleTimeout = 30.0

    mutating func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        if token != nil && tokenFile != nil {
            throw ValidationError("give either --token or --token-file, not both")
        }
        if let tokenFile {
            let token: String
            do {
                token = try Self.readToken(tokenFile)
            } catch {
                throw ValidationError("--token-file: \(error)")
            }
            if token.isEmpty { throw ValidationError("--token-file: \(tokenFile) holds no token") }
        }
        if let token, token.isEmpty { throw ValidationError("--token must not be empty") }
        for origin in corsOrigins where origin != "*" && !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            throw ValidationError("--cors-origin '\(origin)' is not an origin: give scheme and host, e.g. https://dash.example, or *")
        }
        guard maxClients > 0 else { throw ValidationError("--max-clients must be at least 1") }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        guard maxMessageBytes >= 256 else { throw ValidationError("--max-message-bytes must be at least 256") }
        guard maxReplayUpload > 0 else { throw ValidationError("--max-replay-upload must be positive") }
        guard pingInterval >= 0.1 else { throw ValidationError("--ping-interval must be at least 0.1 seconds") }
        guard clientQueue >= 1 else { throw ValidationError("--client-queue must be at least 1") }
        guard slowClientGrace >= 0 else { throw ValidationError("--slow-client-grace must not be negative") }
        guard idleTimeout >= 0.1 else { throw ValidationError("--idle-timeout must be at least 0.1 seconds") }
    }

    func apply(to options: inout AgentOptions) {
        options.host = host
        options.port = port
        options.token = resolvedToken()
        options.allowedOrigins = allowedOrigins
        options.corsOrigins = corsOrigins.isEmpty ? nil : corsOrigins
        options.maxClients = maxClients
        options.maxConnections = maxConnections
        options.maxClientMessageBytes = maxMessageBytes
        options.maxReplayUploadBytes = maxReplayUpload
        options.pingIntervalSeconds = pingInterval
        options.clientQueueCapacity = clientQueue
        options.slowClientGraceSeconds = slowClientGrace
        options.idleTimeoutSeconds = idleTimeout
    }

    /// `--token`, else `--token-file`, else `$VOLTWATCH_TOKEN`, else none. A token file that
    /// became unreadable since validation fails closed: nobody gets in rather than everybody.
    func resolvedToken() -> String? {
        if let token { return token }
        if let tokenFile {
            return (try? Self.readToken(tokenFile)) ?? "unreadable-token-file-\(UInt64.random(in: .min ... .max))"
        }
        return Self.environmentToken()
    }

    /// `$VOLTWATCH_TOKEN`, trimmed; nil when unset or blank.
    static func environmentToken() -> String? {
        guard let value = getenv(tokenEnvironmentVariable) else { return nil }
        let token = String(cString: value).trimmingWhitespace()
        return token.isEmpty ? nil : token
    }

    static func readToken(_ path: String) throws -> String {
        let bytes = try readFile(path, limit: 4096)
        let text = String(decoding: bytes, as: UTF8.self)
        let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return firstLine.trimmingWhitespace()
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
