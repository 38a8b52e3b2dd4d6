/// Writes ``ScoredResult``s as DESIGN.md's `anomaly_result` JSON object.
///
/// One encoding serves every consumer: `replay` output, `run --print` and the WebSocket hub
/// (which wraps the object once and shares the bytes with every client). Field order is
/// fixed, so identical results give byte-identical lines. The byte form appends straight into
/// the caller's buffer: a replay writes millions of these, and building a `String` per field
/// cost more than scoring the sample.
public enum ResultEncoder {
    /// The device name as a JSON string literal (quotes included), escaped once and reused
    /// for every result of that device.
    public struct Device: Sendable {
        public let name: String
        let literal: [UInt8]

        public init(_ name: String) {
            self.name = name
            self.literal = Array(JSONText.string(name).utf8)
        }
    }

    /// Appends `{"anomaly_score":...,"reasons":[...],"episode":N|null}` (no newline) to `out`.
    public static func append(_ result: ScoredResult, device: Device, to out: inout [UInt8]) {
        append("{\"anomaly_score\":", to: &out)
        JSONText.appendNumber(result.anomalyScore, to: &out)
        append(result.isAnomaly ? ",\"is_anomaly\":true,\"confidence\":" : ",\"is_anomaly\":false,\"confidence\":", to: &out)
        // Four decimals: a trust level, unlike the score, needs no 17 significant digits.
        JSONText.appendFraction(result.confidence, decimals: 4, to: &out)
        append(",\"timestamp\":", to: &out)
        JSONText.appendSeconds(fromMilliseconds: result.timestampMs, to: &out)
        append(",\"voltage\":", to: &out)
        JSONText.appendNumber(result.voltage, to: &out)
        append(",\"device\":", to: &out)
        out.append(contentsOf: device.literal)
        append(",\"seq\":", to: &out)
        if let seq = result.seq { JSONText.appendInteger(UInt64(seq), to: &out) } else { append("null", to: &out) }
        append(",\"severity\":", to: &out)
        append(literal(result.severity), to: &out)
        append(",\"kinds\":[", to: &out)
        var first = true
        for kind in result.kinds {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            appendText(kind.rawValue, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        append("],\"reasons\":[", to: &out)
        for (i, reason) in result.reasons.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendText(JSONText.string(reason), to: &out)
        }
        append("],\"episode\":", to: &out)
        if let episode = result.episode { JSONText.appendInteger(episode, to: &out) } else { append("null", to: &out) }
        if let label = result.label { appendLabel(label, of: result, to: &out) }
        out.append(UInt8(ascii: "}"))
    }

    /// `,"channel":"A1","name":"House battery","unit":"V","adc_raw":612,"pin_volts":2.99`: only
    /// for a stream with a channel or settings, so a plain board's results keep the original
    /// format byte for byte.
    private static func appendLabel(_ label: StreamLabel, of result: ScoredResult, to out: inout [UInt8]) {
        append(",\"channel\":", to: &out)
        if let channel = label.channel {
            append("\"A", to: &out)
            JSONText.appendInteger(UInt64(channel.index), to: &out)
            out.append(UInt8(ascii: "\""))
        } else {
            append("null", to: &out)
        }
        append(",\"name\":", to: &out)
        appendText(label.name.map(JSONText.string) ?? "null", to: &out)
        append(",\"unit\":", to: &out)
        appendText(JSONText.string(label.unit), to: &out)
        append(",\"adc_raw\":", to: &out)
        if let raw = result.adcRaw { JSONText.appendInteger(UInt64(raw), to: &out) } else { append("null", to: &out) }
        append(",\"pin_volts\":", to: &out)
        JSONText.appendNumber(result.pinVolts ?? result.voltage, to: &out)
    }

    /// The same object followed by `\n`, for JSON-lines output.
    public static func appendLine(_ result: ScoredResult, device: Device, to out: inout [UInt8]) {
        append(result, device: device, to: &out)
        out.append(0x0A)
    }

    /// `{"anomaly_score":...,"reasons":[...]}` as a string, for one-off use.
    public static func json(_ result: ScoredResult, device: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(result, device: Device(device), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same object followed by `\n`.
    public static func jsonLine(_ result: ScoredResult, device: String) -> String {
        json(result, device: device) + "\n"
    }

    // MARK: Pieces

    /// The severity as a JSON string, quotes included: a static literal rather than
    /// `rawValue`, whose bytes would be copied out of a `String` for every result.
    private static func literal(_ severity: Severity) -> StaticString {
        switch severity {
        case .normal: "\"normal\""
        case .watch: "\"watch\""
        case .warning: "\"warning\""
        case .critical: "\"critical\""
        }
    }

    @inline(__always)
    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Named apart from the `StaticString` form on purpose: a string literal prefers `String`
    /// when both overloads exist, and copying a literal's bytes out of a `String` for every
    /// field of every result cost about a tenth of a replay's time.
    @inline(__always)
    private static func appendText(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }
}
