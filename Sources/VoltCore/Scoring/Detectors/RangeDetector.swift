/// Hard limits from the configuration (`min_volts`, `max_volts`): the one detector that needs
/// no history, for a user who knows what the voltage must never do.
struct RangeDetector: Sendable {
    private let low: Double?
    private let high: Double?

    /// The stream's unit, for the reasons.
    let unit: String

    init(config: ModelConfig, unit: String = ChannelSettings.defaultUnit) {
        self.unit = unit
        let enabled = config.enabledKinds.contains(.outOfRange)
        low = enabled ? config.minVolts : nil
        high = enabled ? config.maxVolts : nil
    }

    func observe(_ x: Double, into verdict: inout Verdict) {
        if let high, x > high {
            verdict.addState(.outOfRange, certainty: 1 + (x - high) / max(abs(high), 0.1)) {
                "out_of_range: \(FixedPoint.format(x)) \(unit) is above the \(FixedPoint.format(high)) \(unit) limit"
            }
        } else if let low, x < low {
            verdict.addState(.outOfRange, certainty: 1 + (low - x) / max(abs(low), 0.1)) {
                "out_of_range: \(FixedPoint.format(x)) \(unit) is below the \(FixedPoint.format(low)) \(unit) limit"
            }
        }
    }
}
