/// Where a client reaches the running agent, from what a person types for `--agent`: the
/// address they open the dashboard at (`http://gateway:5000`), a bare `host:port`, or a
/// WebSocket URL. A path before `/ws` is kept, for an agent behind a reverse proxy.
public struct AgentEndpoint: Sendable, Equatable {
    public static let defaultAgent = "http://127.0.0.1:5000"

    public var secure: Bool
    /// As typed: a name, an IPv4 address, or an IPv6 address in brackets.
    public var host: String
    /// nil: the scheme's (80 or 443).
    public var port: Int?
    /// The path before `/ws`, without a trailing slash (usually empty).
    public var basePath: String

    /// nil when `agent` is not an http(s) or ws(s) address.
    public init?(_ agent: String) {
        var rest = Substring(agent)
        secure = false
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            switch rest[..<colon].lowercased() {
            case "http", "ws": secure = false
            case "https", "wss": secure = true
            default: return nil
            }
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        guard !authority.isEmpty, !authority.contains(where: { $0 == " " || $0 == "@" }) else { return nil }
        // The port follows the last colon, unless that colon is inside an IPv6 address's brackets.
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(port) else { return nil }
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = nil
        }
        guard !host.isEmpty else { return nil }
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/ws") { path.removeLast(3) }
        basePath = path
    }

    /// The port connected to.
    public var effectivePort: Int { port ?? (secure ? 443 : 80) }

    /// Whether the agent runs on this machine (a loopback address or `localhost`), so its
    /// process can be named and the settings file written here is the one it reads.
    public var isLocal: Bool {
        let name = host.lowercased()
        return name == "localhost" || name.hasPrefix("127.") || name == "[::1]" || name == "0.0.0.0"
    }

    /// The `ws://` or `wss://` URL of the agent's `/ws`, with `token` as `?token=` (the agent
    /// takes a token on a WebSocket handshake that way as well as in an Authorization header).
    public func webSocketURL(token: String? = nil) -> String {
        var url = (secure ? "wss://" : "ws://") + host + (port.map { ":\($0)" } ?? "") + basePath + "/ws"
        if let token, !token.isEmpty { url += "?token=" + Self.percentEncoded(token) }
        return url
    }

    /// Everything but unreserved characters (RFC 3986 §2.3) as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
