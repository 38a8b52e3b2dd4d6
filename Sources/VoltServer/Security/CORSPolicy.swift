/// Which web pages on other origins may read the REST API (and the Engine.IO polling
/// transport): the `Access-Control-Allow-Origin` a response carries, if any.
///
/// Browsers only let a page read a cross-origin answer that names its origin (or `*`); the
/// request itself is sent either way, so this governs reading, and the token (never a cookie,
/// so `Access-Control-Allow-Credentials` is never sent) still governs access.
///
/// The default, when `--cors-origin` is not given:
/// - the `--allowed-origin` list, when there is one: the operator has named the browser origins;
/// - otherwise `*` when no token is set: the data is open to anything on the network already,
///   and the original backend allowed every origin;
/// - otherwise none: with a token set, a page that may hold it is one the operator can name.
///
/// Pure, so every rule is tested without a socket.
public struct CORSPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Lower-cased origins without a trailing slash; `*` means any.
    public let origins: [String]

    public init(corsOrigins: [String]?, token: String?, allowedOrigins: [String]) {
        if let corsOrigins {
            origins = corsOrigins.map(AccessPolicy.normalised)
        } else if !allowedOrigins.isEmpty {
            origins = allowedOrigins.map(AccessPolicy.normalised)
        } else if token?.isEmpty ?? true {
            origins = ["*"]
        } else {
            origins = []
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`: `*`, the origin
    /// itself when listed, nil when that origin may not read the answer.
    public func allowOrigin(for origin: String) -> String? {
        if origins.contains("*") { return "*" }
        guard origin != "null", origins.contains(AccessPolicy.normalised(origin)) else { return nil }
        return origin
    }

    /// Methods the REST API answers across origins.
    static let allowMethods = "GET, POST, OPTIONS"
    /// Request headers a page may send: the token, and the body's type.
    static let allowHeaders = "Authorization, Content-Type"
    /// Response headers a page may read besides the simple ones.
    static let exposeHeaders = "Retry-After, WWW-Authenticate"
    /// How long a browser may reuse a preflight answer, seconds.
    static let maxAgeSeconds = 600

    public var description: String { origins.isEmpty ? "same origin only" : origins.joined(separator: " ") }
}
