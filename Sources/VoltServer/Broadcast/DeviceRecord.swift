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
    func report(device: String, nowMs: Int64, staleAfterMs: Int64) -> DeviceReport {
        let last = lastReceivedMs
        let age = last.map { nowMs - $0 }
        let invalid = counters?.invalid ?? RejectionCounts()
        return DeviceReport(
            device: device,
            state: status?.state.rawValue ?? (device == "app" ? "app" : "connected"),
            path: status?.path,
            firmware: status?.firmware ?? hello.map { "\($0.firmware) \($0.version)" },
            lastReceived: last.map(Double.init(secondsFromMilliseconds:)),
            lastReceivedAgeSeconds: age.map(Double.init(secondsFromMilliseconds:)),
            stale: last == nil || (age ?? 0) > staleAfterMs,
            frames: max(counters?.frames ?? 0, results),
            results: results,
            anomalies: anomalies,
            invalid: invalid.total,
            invalidByReason: .init(checksum: invalid.checksum, syntax: invalid.syntax,
                                   tooLong: invalid.tooLong, outOfRange: invalid.outOfRange),
            lost: counters?.lost ?? 0)
    }
}
