import Hummingbird
import NIOCore
import VoltCore

/// `POST /api/replay`: scores an uploaded recording, serial capture or CSV with the same
/// ``TraceReplayer`` as `voltwatch replay`, and answers JSON lines of results (streamed, so a
/// large upload never builds a large answer in memory) or, with `?summary=1`, one summary
/// object with precision, recall and F1 when the CSV has a `label` column.
struct ReplayUpload: Sendable {
    let config: ModelConfig
    let maxBytes: Int
    let metrics: ServerMetrics
    /// Output is written in chunks of about this many bytes.
    static let chunkBytes = 64 * 1024

    func respond(to request: Request, context: some RequestContext) async throws -> Response {
        let tooLarge = HTTPError(.contentTooLarge, message: "upload larger than \(maxBytes) bytes: split the file or raise --max-replay-upload")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBytes { throw tooLarge }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw tooLarge
        }
        let query = request.uri.queryParameters
        let device = query["device"].map(String.init) ?? "replay"
        var pass = ReplayPass(replayer: TraceReplayer(device: device, config: config), body: body)
        if ["1", "true", "yes"].contains(query["summary"].map(String.init) ?? "") {
            var sink = ""
            while !pass.finished { pass.run(into: &sink, untilBytes: Int.max, keepOutput: false) }
            try pass.checkUsable()
            return JSONResponse.ok(pass.summaryJSON())
        }
        // The first chunk is scored before answering, so a file that is not a trace at all
        // gets a 400 with the reason instead of an empty 200.
        var first = ""
        pass.run(into: &first, untilBytes: Self.chunkBytes, keepOutput: true)
        try pass.checkUsable()
        let start = pass
        let firstChunk = first
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var pass = start
            if !firstChunk.isEmpty { try await writer.write(ByteBuffer(string: firstChunk)) }
            while !pass.finished {
                var chunk = ""
                chunk.reserveCapacity(Self.chunkBytes + 512)
                pass.run(into: &chunk, untilBytes: Self.chunkBytes, keepOutput: true)
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
            }
            try await writer.finish(nil)
        })
    }
}

/// The replay of one upload, resumable chunk by chunk.
struct ReplayPass: Sendable {
    var replayer: TraceReplayer
    let body: ByteBuffer
    var offset = 0
    var lineNumber = 0
    var samples = 0
    var anomalies = 0
    var byKind = [Int](repeating: 0, count: AnomalyKind.allCases.count)
    var firstErrors: [String] = []

    init(replayer: TraceReplayer, body: ByteBuffer) {
        self.replayer = replayer
        self.body = body
    }

    var finished: Bool { offset >= body.readableBytes }

    /// Scores lines until about `untilBytes` of output were produced or the input ends.
    mutating func run(into out: inout String, untilBytes: Int, keepOutput: Bool) {
        let device = replayer.stream.device
        body.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            while offset < bytes.count && out.utf8.count < untilBytes {
                var end = offset
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                lineNumber += 1
                let step = replayer.feed(line: UnsafeBufferPointer(rebasing: bytes[offset..<end]), number: lineNumber)
                offset = end + 1
                switch step {
                case .result(let result):
                    samples += 1
                    if result.isAnomaly {
                        anomalies += 1
                        for (i, kind) in AnomalyKind.allCases.enumerated() where result.kinds.contains(kind) { byKind[i] += 1 }
                    }
                    if keepOutput { out += ResultEncoder.jsonLine(result, device: device) }
                case .error(let error):
                    if firstErrors.count < 10 { firstErrors.append(error.description) }
                default:
                    break
                }
            }
        }
    }

    /// A pass that produced nothing but errors, or nothing at all, is a bad request.
    func checkUsable() throws {
        let unreadable = "not a recording, serial capture or CSV voltwatch can read: "
        if samples == 0 && replayer.errorCount > 0 {
            throw HTTPError(.badRequest, message: unreadable + firstErrors.prefix(3).joined(separator: "; "))
        }
        guard samples == 0, let reason = replayer.nothingScoredReason else { return }
        throw HTTPError(.badRequest, message: replayer.format == nil
            ? "the upload is empty: send a recording, a serial capture or a CSV as the request body"
            : unreadable + reason)
    }

    func summaryJSON() -> String {
        let counters = replayer.counters
        var out = "{\"format\":" + (replayer.format.map { JSONText.string($0.rawValue) } ?? "null")
        out += ",\"lines\":\(lineNumber),\"samples\":\(samples),\"anomalies\":\(anomalies),\"by_kind\":{"
        out += AnomalyKind.allCases.enumerated().map { "\"\($0.element.rawValue)\":\(byKind[$0.offset])" }.joined(separator: ",")
        out += "},\"invalid\":\(counters.invalid.total),\"lost\":\(counters.lost)"
        out += ",\"errors\":\(replayer.errorCount),\"first_errors\":[" + firstErrors.map(JSONText.string).joined(separator: ",") + "]"
        if let labels = replayer.labels {
            out += ",\"labels\":{\"precision\":" + JSONText.number(labels.precision) + ",\"recall\":" + JSONText.number(labels.recall)
            out += ",\"f1\":" + JSONText.number(labels.f1) + ",\"true_positives\":\(labels.truePositives)"
            out += ",\"false_positives\":\(labels.falsePositives),\"false_negatives\":\(labels.falseNegatives)"
            out += ",\"true_negatives\":\(labels.trueNegatives)}"
        } else {
            out += ",\"labels\":null"
        }
        return out + "}"
    }
}
