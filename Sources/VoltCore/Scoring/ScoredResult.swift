/// The verdict on one sample: DESIGN.md's `anomaly_result`, without the device name (which
/// belongs to the stream, and is added when the result is encoded).
public struct ScoredResult: Sendable, Equatable {
    // The stored properties are declared widest first, so the struct packs into 128 bytes:
    // every layer (scorer, signal, device, encoder) passes a result by value, and above 128
    // bytes each of those copies is a call to memcpy (8 % of the core benchmark at 136 bytes).

    /// In [0, 1]; full double precision is kept all the way to the JSON.
    public var anomalyScore: Double
    /// In [0, 1]: how much the scorer trusts this verdict; low while its windows warm up.
    public var confidence: Double
    /// The sample's receive time, milliseconds since the epoch.
    public var timestampMs: Int64
    /// The sample's reading, volts.
    public var voltage: Double
    /// One short sentence per fired detector; empty (and unallocated) for normal samples.
    public var reasons: [String]
    /// The ``AlarmEpisode/id`` of the alarm this anomalous result belongs to; nil for normal
    /// results and for results scored outside a ``DeviceStream`` (which owns the tracker).
    public var episode: UInt64?
    /// The reading at the pin before calibration, volts; nil when the stream is uncalibrated
    /// (then it equals ``voltage``).
    public var pinVolts: Double?
    /// The frame's sequence number, when it had one.
    public var seq: UInt32?
    /// The raw ADC code of the frame, when it carried one.
    public var adcRaw: UInt32?
    /// `anomalyScore >= anomaly_threshold`.
    public var isAnomaly: Bool
    public var severity: Severity
    /// Which detectors fired.
    public var kinds: AnomalyKinds
    /// The stream's channel, name and unit; nil for a stream with neither (the original
    /// format: no fields are added).
    public var label: StreamLabel?

    public init(
        anomalyScore: Double, isAnomaly: Bool, confidence: Double, timestampMs: Int64,
        voltage: Double, seq: UInt32?, severity: Severity, kinds: AnomalyKinds, reasons: [String],
        episode: UInt64? = nil
    ) {
        self.episode = episode
        self.anomalyScore = anomalyScore
        self.isAnomaly = isAnomaly
        self.confidence = confidence
        self.timestampMs = timestampMs
        self.voltage = voltage
        self.seq = seq
        self.severity = severity
        self.kinds = kinds
        self.reasons = reasons
    }
}
