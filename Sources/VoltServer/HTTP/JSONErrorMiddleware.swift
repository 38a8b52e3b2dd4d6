import Hummingbird
import Logging

/// Turns every error a route throws into `{"error": message}` with its status, and an
/// unexpected one into a 500 that says nothing about the code, so no client ever sees a stack
/// trace or a type name.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.error(error.message, status: error.status)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)"
                : error.status.reasonPhrase)
            return JSONResponse.error(message, status: error.status)
        } catch let error as any HTTPResponseError {
            return JSONResponse.error(error.status.reasonPhrase, status: error.status)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return JSONResponse.error("internal server error", status: .internalServerError)
        }
    }
}
