import Hummingbird

/// Applies the ``AccessPolicy`` to HTTP requests: a browser origin not on the allow-list is
/// refused (403), and when a token is configured every endpoint but `/api/health` requires it
/// (401 with a `WWW-Authenticate` challenge).
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/api/health" { return try await next(request, context) }
        if let denial = policy.checkOrigin(request.headers[.origin]) {
            return JSONResponse.error(denial.description, status: .forbidden)
        }
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
