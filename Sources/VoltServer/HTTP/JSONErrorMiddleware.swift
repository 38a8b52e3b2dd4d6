import Hummingbird
import Logging

/// Renders every error a route throws as `{"error": message}` with its status (the shape
/// DESIGN.md promises; hummingbird's own is `{"error": {"message": ...}}`), and an unexpected
/// one as a 500 that says nothing about the code, so no client ever sees a stack trace or a
/// type name. Routes throw hummingbird's `HTTPError` with the message clients should read.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each path answers (VoltServer+Routes), for the 405's `Allow` header.
    static var methods: [String: String] {
        ["/": "GET", "/api/health": "GET", "/api/status": "GET", "/api/anomalies": "GET", "/api/model": "GET",
         "/api/history": "GET", "/api/episode": "GET", "/api/summary": "GET",
         "/api/openapi.json": "GET", "/metrics": "GET", "/api/replay": "POST", "/ws": "GET", "/socket.io": "GET, POST",
         "/socket.io/": "GET, POST"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            // A path we serve, asked with a method it does not answer: 405 with the methods
            // it does (RFC 9110 §15.5.6), not a 404 that says the path does not exist.
            if let allowed = Self.methods[request.uri.path] {
                var response = JSONResponse.error(
                    "\(request.method) is not answered at \(request.uri.path): use \(allowed)", status: .methodNotAllowed)
                response.headers[.allow] = allowed
                return response
            }
            return JSONResponse.error("no such endpoint: \(request.method) \(request.uri.path)", status: .notFound)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)"
                : error.status.reasonPhrase)
            var response = JSONResponse.error(message, status: error.status)
            // Headers the error carries (`Retry-After`, `WWW-Authenticate`) go out with it.
            for field in error.headers { response.headers.append(field) }
            return response
        } catch let error as any HTTPResponseError {
            return JSONResponse.error(error.status.reasonPhrase, status: error.status)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return JSONResponse.error("internal server error", status: .internalServerError)
        }
    }
}
