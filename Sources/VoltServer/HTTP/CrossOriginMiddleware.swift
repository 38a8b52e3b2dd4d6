import Hummingbird

/// Applies the ``CORSPolicy`` to every HTTP answer, errors included, so a page on another
/// origin can read a 401 or a 503 as well as a result.
///
/// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
/// before the token check: browsers never send credentials on a preflight. From an origin the
/// policy allows it gets 204 with the allowed methods and headers; from any other, 403 saying
/// how to allow it. Hummingbird's `CORSMiddleware` takes a fixed list only as variadic
/// arguments and answers every `OPTIONS` alike, so this one is ours (and as small).
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = policy.allowOrigin(for: origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard let allowed else {
                return JSONResponse.error(
                    "origin '\(origin.prefix(100))' may not use the API from a web page: add it with --cors-origin",
                    status: .forbidden)
            }
            var headers = HTTPFields()
            headers[.accessControlAllowOrigin] = allowed
            headers[.accessControlAllowMethods] = CORSPolicy.allowMethods
            headers[.accessControlAllowHeaders] = CORSPolicy.allowHeaders
            headers[.accessControlMaxAge] = String(CORSPolicy.maxAgeSeconds)
            if allowed != "*" { headers[.vary] = "Origin" }
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        if let allowed {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlExposeHeaders] = CORSPolicy.exposeHeaders
            if allowed != "*" { response.headers[values: .vary].append("Origin") }
        }
        return response
    }
}
