import Hummingbird
import NIOCore
import Prometheus
import VoltCore
import VoltHistory

/// The HTTP API (DESIGN.md "HTTP"). Every answer is JSON; errors are `{"error": message}`.
extension VoltServer {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Outermost, so every answer below it (errors too) carries the CORS headers.
        router.middlewares.add(CrossOriginMiddleware(policy: cors))
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(AccessMiddleware(policy: policy))
        let hub = self.hub
        let history = configuration.history

        router.get("/") { [simulation = simulation != nil] request, _ in Dashboard.response(to: request, simulation: simulation) }
        router.get("/api/health") { _, _ in
            try JSONResponse.ok(HealthReport(uptimeSeconds: Double(secondsFromMilliseconds: hub.uptimeMs)))
        }
        let uploads = self.uploads
        router.get("/api/status") { _, _ in
            var report = hub.statusReport()
            report.uploads = .init(inProgress: uploads.current, max: uploads.limit)
            report.history = history.map { HistoryStatus($0.healthSnapshot) }
            return try JSONResponse.ok(report)
        }
        router.get("/api/anomalies") { request, _ in
            let limit: Int
            if let text = request.uri.queryParameters["limit"] {
                guard let n = Int(text), n >= 0 else {
                    throw HTTPError(.badRequest, message: "limit must be a whole number from 0 to \(hub.configuration.anomalyHistory)")
                }
                limit = min(n, history == nil ? hub.configuration.anomalyHistory : 100_000)
            } else {
                limit = 50
            }
            // With a store, episodes come from history: they survive restarts and can be
            // asked for by device and time (what a reconnecting phone missed), or as CSV.
            if let history {
                let store: HistoryStore
                do { store = try history.currentStore() } catch {
                    throw HTTPError(.serviceUnavailable, message: "history cannot be read now: \(error)")
                }
                return try Self.storedAnomalies(request, store: store, recent: hub.anomalies(limit: hub.configuration.anomalyHistory),
                                                limit: limit)
            }
            let episodes = hub.anomalies(limit: limit).map(EpisodeReport.init)
            return try JSONResponse.ok(AnomaliesReport(count: episodes.count, anomalies: episodes))
        }
        router.get("/api/model") { _, _ in
            try JSONResponse.ok(ModelReport(config: hub.modelConfig, source: hub.modelConfigSource))
        }
        router.get("/api/openapi.json") { _, _ in JSONResponse.ok(OpenAPIDocument.text) }
        let registry = self.registry
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: MetricHelp.annotate(buffer))))
        }
        let replay = ReplayUpload(config: { hub.modelConfig }, maxBytes: configuration.maxReplayUploadBytes,
                                  metrics: hub.metrics, gate: uploads)
        router.post("/api/replay") { request, context in
            try await replay.respond(to: request, context: context)
        }
        // The WebSocket endpoints answer here only when a request was not an upgrade.
        router.get("/ws") { _, _ -> Response in
            throw HTTPError(.upgradeRequired, message: "/ws is a WebSocket endpoint: connect with a WebSocket client")
        }
        addPollingRoutes(to: router)
        addHistoryRoutes(to: router)
        return router
    }
}
