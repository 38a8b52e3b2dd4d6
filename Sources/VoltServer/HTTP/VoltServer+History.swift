#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Hummingbird
import VoltCore
import VoltHistory

/// The history endpoints (DESIGN.md "History"): the stored series, episodes (as JSON or CSV,
/// since a time, to fill what a reconnecting client missed), one episode with the signal around
/// it, and a summary in words. Without a store they answer 404 saying how to turn it on.
extension VoltServer {
    func addHistoryRoutes(to router: Router<BasicRequestContext>) {
        let source = configuration.history
        @Sendable func store() throws -> HistoryStore {
            guard let source else {
                throw HTTPError(.notFound, message: "history is off: start the agent without --no-history (it keeps history in --data-dir)")
            }
            do {
                return try source.currentStore()
            } catch {
                throw HTTPError(.serviceUnavailable, message: "history cannot be read now: \(error)")
            }
        }

        router.get("/api/history") { request, _ in
            let query = HistoryQuery(request.uri.queryParameters)
            // Without a device: what history holds, to choose from (a browsed database has
            // no live devices to list).
            let toMs = try query.time("to") ?? Now.epochMs
            let fromMs = try query.time("from") ?? (toMs - 3_600_000)
            let givenStep = try query.step()
            guard query.parameters["device"] != nil else {
                return try JSONResponse.ok(StreamsReport(try store().streams()))
            }
            let device = try query.requiredDevice()
            // An empty range is an empty series. A step too fine for the range is coarsened to
            // keep an answer at most 100,000 points; the answer says which step it used.
            var step = givenStep ?? HistoryStep.automatic(fromMs: fromMs, toMs: toMs)
            if fromMs < toMs, (toMs - fromMs) / (step * 1_000) > 100_000 { step = (toMs - fromMs) / 100_000_000 + 1 }
            guard fromMs < toMs else {
                return try JSONResponse.ok(HistoryReport(device: device, fromMs: fromMs, toMs: toMs, step: step, points: []))
            }
            let points = try store().history(stream: device, fromMs: fromMs, toMs: toMs, stepSeconds: step,
                                             secondsKeptSinceMs: source?.secondsKeptSinceMs)
            return JSONResponse.ok(HistoryReport(device: device, fromMs: fromMs, toMs: toMs, step: step, points: points).json)
        }

        router.get("/api/summary") { request, _ in
            let query = HistoryQuery(request.uri.queryParameters)
            let windowText = query.parameters["window"] ?? "24h"
            guard let windowMs = HistorySummary.window(windowText) else {
                throw HTTPError(.badRequest, message: "window '\(windowText)' is not a duration: give 90m, 24h or 7d")
            }
            let summary = try Self.summary(store: store(), device: query.device(), windowMs: windowMs)
            return try JSONResponse.ok(summary)
        }

        router.get("/api/episode") { request, _ in
            let query = HistoryQuery(request.uri.queryParameters)
            let device = try query.requiredDevice()
            guard let idText = query.parameters["id"], let id = UInt64(idText) else {
                throw HTTPError(.badRequest, message: "id must be the episode's id (the `episode` field of its results)")
            }
            let store = try store()
            guard let episode = try store.episodes(stream: device, sinceMs: nil, untilMs: nil, limit: 100_000)
                .first(where: { $0.episode.id == id }) else {
                throw HTTPError(.notFound, message: "no episode \(id) of \(device) in history")
            }
            let points = try store.context(stream: device, episode: id)
            return try JSONResponse.ok(EpisodeContextReport(episode: EpisodeReport(episode), points: points))
        }
    }

    /// `/api/anomalies` from the store: episodes of one device or all, since/until a time,
    /// as JSON or CSV.
    ///
    /// The store is written once a second; `recent` (the hub's episodes in memory) fills that
    /// second, and wins where both hold an episode, being newer.
    static func storedAnomalies(_ request: Request, store: HistoryStore, recent: [EpisodeList.Entry], limit: Int) throws -> Response {
        let query = HistoryQuery(request.uri.queryParameters)
        let device = try query.device()
        let sinceMs = try query.time("since"), untilMs = try query.time("until")
        var byKey: [String: EpisodeReport] = [:]
        for stored in try store.episodes(stream: device, sinceMs: sinceMs, untilMs: untilMs, limit: limit) {
            byKey["\(stored.stream)#\(stored.episode.id)"] = EpisodeReport(stored)
        }
        for entry in recent where device == nil || entry.device == device {
            let e = entry.episode
            if let sinceMs, e.endMs < sinceMs { continue }
            if let untilMs, e.startMs >= untilMs { continue }
            byKey["\(entry.device)#\(e.id)"] = EpisodeReport(entry)
        }
        let episodes = Array(byKey.values.sorted { ($0.start, $0.device) > ($1.start, $1.device) }.prefix(limit))
        switch query.parameters["format"] ?? "json" {
        case "json":
            return try JSONResponse.ok(AnomaliesReport(count: episodes.count, anomalies: episodes))
        case "csv":
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"voltwatch-anomalies.csv\""
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: EpisodeReport.csv(episodes))))
        case let other:
            throw HTTPError(.badRequest, message: "format '\(other)' is not json or csv")
        }
    }

    static func summary(store: HistoryStore, device: String?, windowMs: Int64) throws -> SummaryReport {
        let toMs = Now.epochMs
        let fromMs = toMs - windowMs
        var offset = 0
        var now = time_t(toMs / 1_000)
        var parts = tm()
        if localtime_r(&now, &parts) != nil { offset = Int(parts.tm_gmtoff) }
        let streams = try store.streams().filter { device == nil || $0.stream == device }
        if let device, streams.isEmpty {
            throw HTTPError(.notFound, message: "history knows no stream \(device)")
        }
        let step = max(60, HistoryStep.automatic(fromMs: fromMs, toMs: toMs))
        let summaries = try streams.filter { $0.lastMs >= fromMs }.map { info in
            HistorySummary.summarize(
                info: info, points: try store.history(stream: info.stream, fromMs: fromMs, toMs: toMs, stepSeconds: step),
                episodes: try store.episodes(stream: info.stream, sinceMs: fromMs, untilMs: toMs, limit: 10_000),
                windowMs: windowMs, utcOffsetSeconds: offset)
        }
        let text = summaries.isEmpty ? "Nothing was heard in the last \(HistorySummary.duration(windowMs))."
            : summaries.map(\.sentence).joined(separator: " ")
        return SummaryReport(window: HistorySummary.duration(windowMs), from: Double(secondsFromMilliseconds: fromMs),
                             to: Double(secondsFromMilliseconds: toMs), text: text,
                             streams: summaries.map { .init(device: $0.stream, name: $0.name, unit: $0.unit, text: $0.sentence,
                                                           samples: $0.samples, episodes: $0.episodes) })
    }
}

/// Query parameters of the history endpoints, with the errors a person can act on.
struct HistoryQuery {
    let parameters: [String: String]

    init(_ parameters: Hummingbird.Parameters) {
        var out: [String: String] = [:]
        for (key, value) in parameters { out[String(key)] = String(value) }
        self.parameters = out
    }

    func requiredDevice() throws -> String {
        guard let device = try device() else {
            throw HTTPError(.badRequest, message: "device is required: a stream id as results name it (see /api/status)")
        }
        return device
    }

    /// `device`, when given: 1 to 200 characters.
    func device() throws -> String? {
        guard let device = parameters["device"] else { return nil }
        guard !device.isEmpty, device.count <= 200 else {
            throw HTTPError(.badRequest, message: "device must be a stream id of 1 to 200 characters (see /api/status)")
        }
        return device
    }

    /// A time given as epoch seconds (`1732170000.5`); nil when absent.
    func time(_ name: String) throws -> Int64? {
        guard let text = parameters[name] else { return nil }
        guard let seconds = Double(text), seconds.isFinite, abs(seconds) <= 1e11 else {
            throw HTTPError(.badRequest, message: "\(name) must be a time in epoch seconds, such as 1732170000")
        }
        return Int64((seconds * 1_000).rounded())
    }

    /// `step` in whole seconds, 1 to 86,400; nil when absent.
    func step() throws -> Int64? {
        guard let text = parameters["step"] else { return nil }
        guard let step = Int64(text), (1...86_400).contains(step) else {
            throw HTTPError(.badRequest, message: "step must be a whole number of seconds from 1 to 86400")
        }
        return step
    }
}
