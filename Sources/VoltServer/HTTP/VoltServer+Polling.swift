import Hummingbird
import NIOCore
import VoltCore

/// `/socket.io/?EIO=4&transport=polling`: Engine.IO v4 long-polling (docs/socketio.md).
///
/// `GET` without `sid` opens a session (the open packet); `GET` with it is a poll (the waiting
/// packets joined by `\x1e`, or a wait until one comes); `POST` with it carries the client's
/// packets. Origins are checked as for every request (AccessMiddleware); the token is checked
/// at the namespace connect, as on the websocket transport, so the client hears why it was
/// refused (`44`).
extension VoltServer {
    func addPollingRoutes(to router: Router<BasicRequestContext>) {
        let server = self
        // The router treats `/socket.io/` and `/socket.io` as one path.
        router.get("/socket.io") { request, context in
            try await server.poll(request, context: context)
        }
        router.post("/socket.io") { request, context in
            try await server.pollPost(request, context: context)
        }
    }

    private func checkTransport(_ request: Request) throws {
        let query = request.uri.queryParameters
        guard query["EIO"] == "4" else {
            throw HTTPError(.badRequest, message: "Socket.IO is served as Engine.IO v4: connect with EIO=4 (a Socket.IO v3 or v4 client)")
        }
        guard query["transport"] == "polling" else {
            throw HTTPError(.badRequest, message: "transport must be polling or websocket (a websocket request must be an upgrade)")
        }
    }

    private func poll(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try checkTransport(request)
        guard let sid = request.uri.queryParameters["sid"].map(String.init) else {
            guard let open = try await polling.open(server: self, logger: logger) else {
                throw HTTPError(.serviceUnavailable, message: Self.tooManyClients)
            }
            return Self.pollingText(open)
        }
        do {
            guard let text = try await polling.with(sid, { $0.poll() }) else {
                throw HTTPError(.badRequest, message: "unknown session id: connect again")
            }
            return Self.pollingText(text)
        } catch let error as PollingError {
            throw HTTPError(.badRequest, message: error.description)
        }
    }

    private func pollPost(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try checkTransport(request)
        guard let sid = request.uri.queryParameters["sid"].map(String.init) else {
            throw HTTPError(.badRequest, message: "a POST needs the session id: sid=...")
        }
        let limit = configuration.maxClientMessageBytes
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge, message: "packets over \(limit) bytes (maxPayload)")
        }
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw HTTPError(.badRequest, message: "packets must be UTF-8 text")
        }
        let credentials = ClientCredentials(
            authorization: request.headers[.authorization],
            queryToken: request.uri.queryParameters["token"].map(String.init))
        let known = try await polling.with(sid) { session in
            session.receive(payload: text, credentials: credentials)
            return session.loop.makeSucceededFuture(true)
        }
        guard known != nil else { throw HTTPError(.badRequest, message: "unknown session id: connect again") }
        return Self.pollingText("ok")
    }

    static func pollingText(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=UTF-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
