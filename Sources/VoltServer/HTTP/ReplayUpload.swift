import Hummingbird
import NIOCore
import VoltCore

/// `POST /api/replay`: scores an uploaded recording, serial capture or CSV with the same
/// ``TraceReplayer`` as `voltwatch replay`, and answers JSON lines of results or, with
/// `?summary=1`, one summary object with precision, recall and F1 when the CSV has a `label`
/// column. `?threshold=T` scores the upload with `anomaly_threshold` T, to see what another
/// threshold would give. The trace is the raw body or, for `multipart/form-data` (a browser
/// form, `curl -F file=@day.csv`), the form's file part, streamed the same way; form fields
/// before the file may carry the options.
///
/// The upload is scored as it arrives, chunk by chunk, and the results leave as they are made,
/// so an upload costs one body chunk and one output chunk of memory whatever its size (a
/// 60 MB day of logs used to be held whole). At most ``UploadGate/limit`` uploads are scored at
/// once; the next is answered 503 with `Retry-After`, so a burst of uploads cannot take the
/// gateway's memory or its cores from the live stream. Scoring runs on a thread of its own at
/// a lower priority (``LowPriorityExecutor``) and yields between chunks.
struct ReplayUpload: Sendable {
    /// The scoring configuration in effect when an upload starts (it follows reloads).
    let config: @Sendable () -> ModelConfig
    let maxBytes: Int
    let metrics: ServerMetrics
    let gate: UploadGate
    /// Output is written in chunks of about this many bytes.
    static let chunkBytes = 64 * 1024

    func respond(to request: Request, context: some RequestContext) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBytes {
            throw HTTPError(.contentTooLarge, message: UploadBody.tooLargeMessage(maxBytes))
        }
        guard let ticket = gate.enter() else {
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            throw HTTPError(.serviceUnavailable, headers: headers, message:
                "\(gate.limit) uploads are being scored already: try again in a few seconds")
        }
        let raw = UploadBody(request.body, maxBytes: maxBytes)
        var options: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { options[String(key)] = String(value) }
        let body: any ReplayChunks
        switch request.headers[.contentType].flatMap(MultipartScanner.boundary(contentType:)) {
        case .some(.some(let boundary)):
            let form = MultipartUpload(raw, boundary: boundary)
            // The query string wins over a form field of the same name.
            options.merge(try await form.start()) { query, _ in query }
            body = form
        case .some(.none):
            throw HTTPError(.badRequest, message: "multipart/form-data without a boundary parameter: let the client set Content-Type")
        case .none:
            body = raw
        }
        let device = options["device"] ?? "replay"
        var config = config()
        if let text = options["threshold"] {
            guard let threshold = Double(text), threshold > 0, threshold <= 1 else {
                throw HTTPError(.badRequest, message: "threshold must be a number above 0 and at most 1, got '\(text.prefix(40))'")
            }
            config.anomalyThreshold = threshold
            do { try config.validate() } catch {
                throw HTTPError(.badRequest, message: "threshold \(text): \(error)")
            }
        }
        var pass = ReplayPass(replayer: TraceReplayer(device: device, config: config))
        let summary = options["summary"] ?? "0"
        guard ["1", "true", "yes", "0", "false", "no"].contains(summary) else {
            throw HTTPError(.badRequest, message: "summary must be 1, true or yes (or 0, false, no), got '\(summary.prefix(40))'")
        }
        if ["1", "true", "yes"].contains(summary) {
            var sink = ""
            try await withTaskExecutorPreference(LowPriorityExecutor.shared) {
                while try await pass.run(body, into: &sink, untilBytes: Int.max, keepOutput: false) {}
            }
            try pass.checkUsable()
            withExtendedLifetime(ticket) {}
            return JSONResponse.ok(pass.summaryJSON())
        }
        // The first output is scored before answering, so a file that is not a trace at all
        // gets a 400 with the reason instead of an empty 200.
        var first = ""
        let more = try await withTaskExecutorPreference(LowPriorityExecutor.shared) {
            try await pass.run(body, into: &first, untilBytes: Self.chunkBytes, keepOutput: true)
        }
        try pass.checkUsable()
        let start = pass
        let firstChunk = first
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var pass = start
            if !firstChunk.isEmpty { try await writer.write(ByteBuffer(string: firstChunk)) }
            var more = more
            while more {
                var chunk = ""
                chunk.reserveCapacity(Self.chunkBytes + 512)
                more = try await withTaskExecutorPreference(LowPriorityExecutor.shared) {
                    try await pass.run(body, into: &chunk, untilBytes: Self.chunkBytes, keepOutput: true)
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
            }
            try await writer.finish(nil)
            withExtendedLifetime(ticket) {}
        })
    }
}

/// The replay of one upload, resumable chunk by chunk as the body arrives.
struct ReplayPass: Sendable {
    var replayer: TraceReplayer
    /// The start of a line whose end has not arrived yet.
    var partialLine: [UInt8] = []
    var lineNumber = 0
    var samples = 0
    var anomalies = 0
    var byKind = [Int](repeating: 0, count: AnomalyKind.allCases.count)
    var firstErrors: [String] = []

    /// A line is cut here (the rest is counted with it as one invalid line): no frame, CSV row
    /// or recording line comes near it, and a body with no newline must not grow a buffer.
    static let maxLineBytes = 64 * 1024

    init(replayer: TraceReplayer) {
        self.replayer = replayer
    }

    /// Scores the body's lines until about `untilBytes` of output were produced or the body
    /// ends; returns false once the body is done. Yields between body chunks, so scoring an
    /// upload never holds a thread the live stream needs for long.
    mutating func run(_ body: any ReplayChunks, into out: inout String, untilBytes: Int, keepOutput: Bool) async throws -> Bool {
        while out.utf8.count < untilBytes {
            guard let chunk = try await body.next() else {
                if !partialLine.isEmpty {
                    let line = partialLine
                    partialLine = []
                    line.withUnsafeBufferPointer { score($0, into: &out, keepOutput: keepOutput) }
                }
                return false
            }
            chunk.withUnsafeReadableBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                var start = 0
                while let newline = bytes[start...].firstIndex(of: 0x0A) {
                    if partialLine.isEmpty {
                        score(UnsafeBufferPointer(rebasing: bytes[start..<newline]), into: &out, keepOutput: keepOutput)
                    } else {
                        appendPartial(bytes[start..<newline])
                        let line = partialLine
                        partialLine = []
                        line.withUnsafeBufferPointer { score($0, into: &out, keepOutput: keepOutput) }
                    }
                    start = newline + 1
                }
                appendPartial(bytes[start...])
            }
            await Task.yield()
        }
        return true
    }

    private mutating func appendPartial(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
        let room = Self.maxLineBytes - partialLine.count
        if room > 0 { partialLine.append(contentsOf: bytes.prefix(room)) }
    }

    private mutating func score(_ line: UnsafeBufferPointer<UInt8>, into out: inout String, keepOutput: Bool) {
        lineNumber += 1
        switch replayer.feed(line: line, number: lineNumber) {
        case .result(let result):
            tally(result, device: replayer.stream.device, into: &out, keepOutput: keepOutput)
        case .channels(let results):
            for channel in results { tally(channel.result, device: channel.stream, into: &out, keepOutput: keepOutput) }
        case .error(let error):
            if firstErrors.count < 10 { firstErrors.append(error.description) }
        default:
            break
        }
    }

    private mutating func tally(_ result: ScoredResult, device: String, into out: inout String, keepOutput: Bool) {
        samples += 1
        if result.isAnomaly {
            anomalies += 1
            for (i, kind) in AnomalyKind.allCases.enumerated() where result.kinds.contains(kind) { byKind[i] += 1 }
        }
        if keepOutput { out += ResultEncoder.jsonLine(result, device: device) }
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
        out += ",\"threshold\":" + JSONText.number(replayer.stream.config.anomalyThreshold)
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
