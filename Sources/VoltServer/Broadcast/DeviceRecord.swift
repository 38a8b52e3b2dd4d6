import VoltCore

/// What the hub knows about one device: its last status, `$HELLO`, stream counters and result
/// tally, from which `/api/status` and `hello` are answered.
struct DeviceRecord: Sendable {
    var status: DeviceStatus?
    var hello: Hello?
    var counters: StreamCounters?
    /// Results published for this device since the agent started.
    var results = 0
    var anomalies = 0
    /// Receive time of the newest result, epoch milliseconds.
    var lastResultMs: Int64?

    /// The newer of the reader's last received line and the last result.
    var lastReceivedMs: Int64? {
        switch (counters?.lastReceivedMs, lastResultMs) {
        case let (a?, b?): max(a, b)
        case let (a?, nil): a
        case let (nil, b?): b
        case (nil, nil): nil
        }
    }

    /// `/api/status`'s entry. `staleAfterMs` is how long a connected stream may be silent.
    func statusJSON(device: String, nowMs: Int64, staleAfterMs: Int64) -> String {
        let last = lastReceivedMs
        let age = last.map { nowMs - $0 }
        let state = status?.state.rawValue ?? (device == "app" ? "app" : "connected")
        let stale = last == nil || (age ?? 0) > staleAfterMs
        let firmware = status?.firmware ?? hello.map { "\($0.firmware) \($0.version)" }
        let frames = max(counters?.frames ?? 0, results)
        let invalid = counters?.invalid ?? RejectionCounts()
        var out = "{\"device\":" + JSONText.string(device)
        out += ",\"state\":\"" + state + "\""
        out += ",\"path\":" + (status?.path.map(JSONText.string) ?? "null")
        out += ",\"firmware\":" + (firmware.map(JSONText.string) ?? "null")
        out += ",\"last_received\":" + (last.map { JSONText.seconds(fromMilliseconds: $0) } ?? "null")
        out += ",\"last_received_age_seconds\":" + (age.map { JSONText.seconds(fromMilliseconds: $0) } ?? "null")
        out += ",\"stale\":" + (stale ? "true" : "false")
        out += ",\"frames\":\(frames),\"results\":\(results),\"anomalies\":\(anomalies)"
        out += ",\"invalid\":\(invalid.total),\"invalid_by_reason\":{\"checksum\":\(invalid.checksum),\"syntax\":\(invalid.syntax)"
        out += ",\"too_long\":\(invalid.tooLong),\"out_of_range\":\(invalid.outOfRange)}"
        out += ",\"lost\":\(counters?.lost ?? 0)}"
        return out
    }
}
