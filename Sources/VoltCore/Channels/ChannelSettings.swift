/// What the user says about one stream: its name, unit, calibration and limits.
///
/// A stream is a board's single signal (`$VOLT`, bare numbers) or one channel of a `$VOLTS`
/// board. The scorer works on the calibrated value, so the detectors, the limits and every
/// reason speak the channel's unit.
public struct ChannelSettings: Sendable, Equatable {
    /// "House battery"; nil shows the stream id.
    public var name: String?
    /// "V", "A", "°C", "%"...
    public var unit: String
    public var calibration: Calibration
    /// Limits in the channel's unit for `out_of_range`; they replace `min_volts`/`max_volts`.
    public var min: Double?
    public var max: Double?

    public static let defaultUnit = "V"

    public init(name: String? = nil, unit: String = ChannelSettings.defaultUnit, calibration: Calibration = .identity,
                min: Double? = nil, max: Double? = nil) {
        self.name = name
        self.unit = unit
        self.calibration = calibration
        self.min = min
        self.max = max
    }

    /// The keys one channel's entry may hold.
    static let knownKeys = ["name", "unit", "calibration", "min", "max"]
}

/// How a result names its stream: the channel it came from, the user's name, the unit.
/// Results of a stream without a channel or settings carry none (the original format).
public struct StreamLabel: Sendable, Equatable {
    // Strings first: 34 bytes instead of 40, which keeps ``ScoredResult`` within 128.
    public var unit: String
    public var name: String?
    public var channel: AnalogChannel?

    public init(channel: AnalogChannel?, name: String?, unit: String) {
        self.channel = channel
        self.name = name
        self.unit = unit
    }
}
