import Hummingbird

/// Applies the ``AccessPolicy`` to HTTP requests: a browser origin not on the allow-list is
/// refused (403), and when a token is configured every endpoint but `/api/health`, the API's
/// description `/api/openapi.json` and the dashboard page `/` requires it (401 with a `WWW-Authenticate` challenge). The page holds
/// no data — everything it shows comes through `/ws` and `/api/*`, which do need the token —
/// so serving it openly lets it tell a person that a token is needed, instead of a raw 401.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/api/health" || request.uri.path == "/api/openapi.json" { return try await next(request, context) }
        if request.uri.path == "/" && request.method == .get { return try await next(request, context) }
        if let denial = policy.checkOrigin(request.headers[.origin]) {
            return JSONResponse.error(denial.description, status: .forbidden)
        }
        // Socket.IO long-polling checks the token at the namespace connect, as the websocket
        // transport does, so a refused client hears why (`44`) instead of a bare 401.
        if request.uri.path == "/socket.io" || request.uri.path == "/socket.io/" { return try await next(request, context) }
        if let denial = policy.authorize(
            authorization: request.headers[.authorization],
            queryToken: request.uri.queryParameters["token"].map(String.init))
        {
            var response = JSONResponse.error(denial.description, status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"voltwatch\""
            return response
        }
        return try await next(request, context)
    }
}
