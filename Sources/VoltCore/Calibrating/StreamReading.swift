/// One stream's reading as a client of the agent sees it in an `anomaly_result`: the voltage at
/// the pin and the value the agent made of it with the calibration in force.
public struct StreamReading: Sendable, Equatable {
    /// The result's `device`: `<device>` or `<device>/<channel>`.
    public var stream: String
    /// `pin_volts`, or `voltage` for a plain stream (whose value is the pin's voltage).
    public var pinVolts: Double
    /// `voltage`: the value under the agent's calibration, in ``unit``.
    public var value: Double
    /// The stream's unit; nil for a plain stream (volts at the pin).
    public var unit: String?
    /// The stream's name, when its settings give one.
    public var name: String?

    public init(stream: String, pinVolts: Double, value: Double, unit: String? = nil, name: String? = nil) {
        self.stream = stream
        self.pinVolts = pinVolts
        self.value = value
        self.unit = unit
        self.name = name
    }
}
