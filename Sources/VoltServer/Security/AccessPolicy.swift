/// Who may use the server: the optional token and the browser origin allow-list.
///
/// Pure, so every rule is tested without a socket. The token itself never appears in
/// ``description`` or in any error, so a log line cannot leak it.
public struct AccessPolicy: Sendable, CustomStringConvertible {
    /// Why a request was refused. The text says how to fix it, never what the token is.
    public enum Denial: Error, Sendable, Equatable, CustomStringConvertible {
        case missingToken
        case wrongToken
        case originNotAllowed(String)

        public var description: String {
            switch self {
            case .missingToken:
                "a token is required: send 'Authorization: Bearer <token>', '?token=<token>' or the Socket.IO auth {token}"
            case .wrongToken:
                "the token is not valid"
            case .originNotAllowed(let origin):
                "origin '\(origin.prefix(100))' is not allowed: add it with --allowed-origin"
            }
        }
    }

    private let token: [UInt8]?
    /// Lower-cased, without a trailing slash. Empty means any origin.
    public let allowedOrigins: [String]

    public init(token: String?, allowedOrigins: [String] = []) {
        self.token = token.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.allowedOrigins = allowedOrigins.map(Self.normalised)
    }

    public var requiresToken: Bool { token != nil }

    public var description: String {
        "AccessPolicy(token: \(token == nil ? "none" : "set"), origins: \(allowedOrigins.isEmpty ? "any" : allowedOrigins.joined(separator: " ")))"
    }

    /// Checks the credentials a client offered, in order of preference: the `Authorization`
    /// header value, a `?token=` query value, the Socket.IO auth payload's `token`.
    public func authorize(authorization: String?, queryToken: String?, authToken: String? = nil) -> Denial? {
        guard let token else { return nil }
        let offered: String?
        if let authorization, let bearer = Self.bearer(authorization) {
            offered = bearer
        } else {
            offered = queryToken ?? authToken
        }
        guard let offered, !offered.isEmpty else { return .missingToken }
        return Self.constantTimeEqual(Array(offered.utf8), token) ? nil : .wrongToken
    }

    /// Browsers send `Origin`; other clients (apps, scripts) usually don't, and are not
    /// subject to the allow-list, which protects against cross-site WebSocket hijacking only.
    public func checkOrigin(_ origin: String?) -> Denial? {
        guard let origin, !allowedOrigins.isEmpty else { return nil }
        if allowedOrigins.contains("*") { return nil }
        return allowedOrigins.contains(Self.normalised(origin)) ? nil : .originNotAllowed(origin)
    }

    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: " \t")
    }

    static func normalised(_ origin: String) -> String {
        var o = origin.lowercased()
        while o.hasSuffix("/") { o.removeLast() }
        return o
    }

    /// Compares without stopping at the first difference, so timing does not reveal how much
    /// of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
