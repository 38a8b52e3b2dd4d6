/// One voltage reading, as the scorer sees it.
///
/// `receivedAtMs` is the agent's wall clock when the line arrived, in whole milliseconds: the
/// recorder stores it at that precision, so a replay of a recording scores exactly what the
/// live agent scored.
public struct Sample: Sendable, Equatable {
    /// Frame counter from `$VOLT`; nil for legacy numbers and CSV rows.
    public var seq: UInt32?
    /// The board's `millis()` at sampling; nil when the source has none.
    public var uptimeMs: UInt32?
    /// The raw ADC reading, when the frame carries it.
    public var adcRaw: UInt32?
    /// The reading, in the stream's unit (volts unless a calibration says otherwise).
    public var volts: Double
    /// The reading at the pin before calibration; nil when the stream is uncalibrated.
    public var pinVolts: Double?
    /// When the sample was received (or, for CSV, its timestamp), milliseconds since the epoch.
    public var receivedAtMs: Int64

    public init(volts: Double, receivedAtMs: Int64, seq: UInt32? = nil, uptimeMs: UInt32? = nil, adcRaw: UInt32? = nil) {
        self.volts = volts
        self.receivedAtMs = receivedAtMs
        self.seq = seq
        self.uptimeMs = uptimeMs
        self.adcRaw = adcRaw
    }

    public init(_ frame: VoltFrame, receivedAtMs: Int64) {
        self.init(volts: frame.volts, receivedAtMs: receivedAtMs, seq: frame.seq, uptimeMs: frame.uptimeMs, adcRaw: frame.adcRaw)
    }
}
