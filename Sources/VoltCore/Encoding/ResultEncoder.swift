/// Writes ``ScoredResult``s as DESIGN.md's `anomaly_result` JSON object.
///
/// One encoding serves every consumer: `replay` output, `run --print`, the recorder-free live
/// path and the WebSocket hub (which wraps the object once and shares the bytes with every
/// client). Field order is fixed, so identical results give byte-identical lines.
public enum ResultEncoder {
    /// `{"anomaly_score":...,"is_anomaly":...,...,"reasons":[...]}` without a newline.
    public static func json(_ result: ScoredResult, device: String) -> String {
        var out = "{\"anomaly_score\":"
        out.reserveCapacity(192)
        out += JSONText.number(result.anomalyScore)
        out += result.isAnomaly ? ",\"is_anomaly\":true" : ",\"is_anomaly\":false"
        out += ",\"confidence\":"
        out += JSONText.number(result.confidence)
        out += ",\"timestamp\":"
        out += JSONText.seconds(fromMilliseconds: result.timestampMs)
        out += ",\"voltage\":"
        out += JSONText.number(result.voltage)
        out += ",\"device\":"
        out += JSONText.string(device)
        out += ",\"seq\":"
        if let seq = result.seq { out += String(seq) } else { out += "null" }
        out += ",\"severity\":\""
        out += result.severity.rawValue
        out += "\",\"kinds\":["
        var first = true
        for kind in result.kinds {
            if !first { out += "," }
            first = false
            out += "\""
            out += kind.rawValue
            out += "\""
        }
        out += "],\"reasons\":["
        for (i, reason) in result.reasons.enumerated() {
            if i > 0 { out += "," }
            out += JSONText.string(reason)
        }
        out += "]}"
        return out
    }

    /// The same object followed by `\n`, for JSON-lines output.
    public static func jsonLine(_ result: ScoredResult, device: String) -> String {
        json(result, device: device) + "\n"
    }
}
