/// Turns a channel's reading at the pin (volts, as the firmware reports it) into the value the
/// user cares about, in the channel's own unit: `value = scale × pin + offset`.
///
/// Every form a user may give reduces to this line: a divider's resistors (the battery behind
/// a 100 k / 10 k divider is 11 × the pin), a factor and offset read off a sensor's data sheet
/// (an ACS712 hall sensor: 1 A per 0.185 V around 2.5 V), or two points measured while known
/// values were applied (`voltwatch calibrate`).
public struct Calibration: Sendable, Equatable {
    public var scale: Double
    public var offset: Double
    /// How the settings gave it, so it is written back the way the user wrote it.
    public var form: Form

    public enum Form: Sendable, Equatable {
        case linear
        /// `top` from the input to the pin, `bottom` from the pin to ground, ohms.
        case divider(topOhms: Double, bottomOhms: Double)
        /// Two (pin volts, value) pairs.
        case points(Point, Point)
    }

    /// A reading at the pin and the value it stands for.
    public struct Point: Sendable, Equatable {
        public var pinVolts: Double
        public var value: Double

        public init(pinVolts: Double, value: Double) {
            self.pinVolts = pinVolts
            self.value = value
        }
    }

    public static let identity = Calibration(scale: 1, offset: 0)

    public init(scale: Double, offset: Double = 0) {
        self.scale = scale
        self.offset = offset
        self.form = .linear
    }

    /// A resistor divider in front of the pin: the input is `(top + bottom) / bottom` × the pin.
    public static func divider(topOhms: Double, bottomOhms: Double) -> Calibration {
        var calibration = Calibration(scale: (topOhms + bottomOhms) / bottomOhms)
        calibration.form = .divider(topOhms: topOhms, bottomOhms: bottomOhms)
        return calibration
    }

    /// The line through two measured points; nil when their pin readings are (nearly) equal,
    /// which says nothing about the slope.
    public static func points(_ a: Point, _ b: Point) -> Calibration? {
        let run = b.pinVolts - a.pinVolts
        guard abs(run) >= 1e-6, a.value.isFinite, b.value.isFinite else { return nil }
        let scale = (b.value - a.value) / run
        var calibration = Calibration(scale: scale, offset: a.value - scale * a.pinVolts)
        calibration.form = .points(a, b)
        return calibration
    }

    public var isIdentity: Bool { scale == 1 && offset == 0 }

    @inline(__always)
    public func value(pinVolts: Double) -> Double { scale * pinVolts + offset }

    /// `value = 11 × pin`, `value = 5.405 × pin − 13.51`: for logs and the calibrate command.
    public var formula: String {
        var text = "value = \(JSONText.number(scale)) × pin"
        if offset != 0 { text += (offset < 0 ? " − " : " + ") + JSONText.number(abs(offset)) }
        return text
    }
}
