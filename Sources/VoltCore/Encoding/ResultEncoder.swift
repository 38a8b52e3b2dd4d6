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
        append(result, device: device, newline: false, to: &out)
    }

    /// Writes the whole object into the array's spare capacity in one pass. The capacity asked
    /// for is an upper bound: the fixed text, seven numbers of at most
    /// ``JSONText/maxNumberLength`` bytes (score, confidence, timestamp, voltage, seq, episode,
    /// pin_volts), and the strings (device, kinds, reasons, label) at their escaped lengths.
    private static func append(_ result: ScoredResult, device: Device, newline: Bool, to out: inout [UInt8]) {
        // Escaped once, to know their lengths; only anomalies have reasons.
        let reasons = result.reasons.map(JSONText.string)
        let name = result.label.map { $0.name.map(JSONText.string) ?? "null" }
        let unit = result.label.map { JSONText.string($0.unit) }
        var bound = fixedLength + device.literal.count + 7 * JSONText.maxNumberLength
        for kind in result.kinds { bound += kind.rawValue.utf8.count + 3 }
        for reason in reasons { bound += reason.utf8.count + 1 }
        if let name, let unit { bound += labelLength + name.utf8.count + unit.utf8.count }
        // The result is written through a pointer, field by field: captured or passed as a
        // value, the whole result was copied (its reasons and label retained and released)
        // for every line.
        withUnsafePointer(to: result) { result in
            out.append(addingCapacity: bound) { span in
                write(result, device: device, reasons: reasons, name: name, unit: unit, to: &span)
                if newline { span.append(0x0A) }
            }
        }
    }

    private static func write(
        _ result: UnsafePointer<ScoredResult>, device: Device, reasons: [String], name: String?, unit: String?,
        to out: inout OutputSpan<UInt8>
    ) {
        JSONText.append("{\"anomaly_score\":", to: &out)
        JSONText.appendNumber(result.pointee.anomalyScore, fewDecimals: false, to: &out)
        JSONText.append(result.pointee.isAnomaly ? ",\"is_anomaly\":true,\"confidence\":" : ",\"is_anomaly\":false,\"confidence\":", to: &out)
        // Four decimals: a trust level, unlike the score, needs no 17 significant digits.
        JSONText.appendFraction(result.pointee.confidence, decimals: 4, to: &out)
        JSONText.append(",\"timestamp\":", to: &out)
        JSONText.appendSeconds(fromMilliseconds: result.pointee.timestampMs, to: &out)
        JSONText.append(",\"voltage\":", to: &out)
        JSONText.appendNumber(result.pointee.voltage, to: &out)
        JSONText.append(",\"device\":", to: &out)
        device.literal.withUnsafeBufferPointer { JSONText.append($0, to: &out) }
        JSONText.append(",\"seq\":", to: &out)
        if let seq = result.pointee.seq { JSONText.appendInteger(UInt64(seq), to: &out) } else { JSONText.append("null", to: &out) }
        JSONText.append(",\"severity\":", to: &out)
        JSONText.append(literal(result.pointee.severity), to: &out)
        JSONText.append(",\"kinds\":[", to: &out)
        var first = true
        for kind in result.pointee.kinds {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            JSONText.append(text: kind.rawValue, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        JSONText.append("],\"reasons\":[", to: &out)
        for (i, reason) in reasons.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.append(text: reason, to: &out)
        }
        JSONText.append("],\"episode\":", to: &out)
        if let episode = result.pointee.episode { JSONText.appendInteger(episode, to: &out) } else { JSONText.append("null", to: &out) }
        if let label = result.pointee.label, let name, let unit { writeLabel(label, name: name, unit: unit, of: result, to: &out) }
        out.append(UInt8(ascii: "}"))
    }

    /// `,"channel":"A1","name":"House battery","unit":"V","adc_raw":612,"pin_volts":2.99`: only
    /// for a stream with a channel or settings, so a plain board's results keep the original
    /// format byte for byte. `name` and `unit` are already JSON text.
    private static func writeLabel(_ label: StreamLabel, name: String, unit: String, of result: UnsafePointer<ScoredResult>,
                                   to out: inout OutputSpan<UInt8>) {
        JSONText.append(",\"channel\":", to: &out)
        if let channel = label.channel {
            JSONText.append("\"A", to: &out)
            JSONText.appendInteger(UInt64(channel.index), to: &out)
            out.append(UInt8(ascii: "\""))
        } else {
            JSONText.append("null", to: &out)
        }
        JSONText.append(",\"name\":", to: &out)
        JSONText.append(text: name, to: &out)
        JSONText.append(",\"unit\":", to: &out)
        JSONText.append(text: unit, to: &out)
        JSONText.append(",\"adc_raw\":", to: &out)
        if let raw = result.pointee.adcRaw { JSONText.appendInteger(UInt64(raw), to: &out) } else { JSONText.append("null", to: &out) }
        JSONText.append(",\"pin_volts\":", to: &out)
        JSONText.appendNumber(result.pointee.pinVolts ?? result.pointee.voltage, to: &out)
    }

    /// The fixed text of a result, more than counted: the field names, punctuation, the longest
    /// literal of each choice (`false`, `"critical"`, `null`) and a newline.
    private static let fixedLength = 256
    /// The same for the label's fields (names, punctuation, `"A5"`, `null`s, adc_raw's digits).
    private static let labelLength = 96

    /// The same object followed by `\n`, for JSON-lines output.
    public static func appendLine(_ result: ScoredResult, device: Device, to out: inout [UInt8]) {
        append(result, device: device, newline: true, to: &out)
    }

    /// `{"anomaly_score":...,"reasons":[...]}` as a string, for one-off use.
    public static func json(_ result: ScoredResult, device: String) -> String {
        text(result, device: device, newline: false)
    }

    /// The same object followed by `\n`.
    public static func jsonLine(_ result: ScoredResult, device: String) -> String {
        text(result, device: device, newline: true)
    }

    private static func text(_ result: ScoredResult, device: String, newline: Bool) -> String {
        var out: [UInt8] = []
        append(result, device: Device(device), newline: newline, to: &out)
        return String(decoding: out, as: UTF8.self)
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
}
