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
    /// The newest result's value, in the stream's unit.
    var lastValue: Double?
    /// The stream's channel, name and unit, from its newest result (nil: a plain board).
    var label: StreamLabel?

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
    /// A channel's stream (`<device>/<channel>`) takes its state, path and firmware from its
    /// `board`'s record: the port is the board's.
    func report(device: String, board: (id: String, record: DeviceRecord)?, nowMs: Int64, staleAfterMs: Int64) -> DeviceReport {
        let last = lastReceivedMs
        let age = last.map { nowMs - $0 }
        let invalid = counters?.invalid ?? RejectionCounts()
        let port = board?.record ?? self
        return DeviceReport(
            device: device,
            state: port.status?.state.rawValue ?? (device == "app" ? "app" : "connected"),
            path: port.status?.path,
            firmware: port.status?.firmware ?? port.hello.map { "\($0.firmware) \($0.version)" },
            board: board?.id,
            channel: label?.channel?.name,
            name: label?.name,
            unit: label?.unit,
            lastValue: lastValue,
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
