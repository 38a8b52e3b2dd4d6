/// The two-point method of `voltwatch calibrate`, without the terminal: the person applies a
/// known value, types it, the next readings at the pin are averaged into a point; then a
/// second; the line through both is the calibration.
///
/// Kept apart from the command so every rule (a second value equal to the first, two pin
/// readings too close to give a slope, readings arriving before the value was typed) is
/// tested without a board, an agent or a terminal.
public struct TwoPointCapture: Sendable {
    /// Two pin readings closer than this (1 mV, a fifth of an Uno's ADC step) give no usable
    /// slope: the noise of one step would swing the scale by a fifth.
    public static let minimumSeparationVolts = 0.001

    /// Readings averaged per point.
    public let samples: Int
    public private(set) var stage: Stage
    /// The first point, once measured.
    public private(set) var first: Calibration.Point?
    /// How far the first point's readings spread.
    public private(set) var firstSpread = 0.0
    /// The two points are apart by no more than their readings spread: the value moved, or
    /// the values applied were too close for this signal's noise, and the slope is mostly
    /// noise. Allowed (a noisy signal may be all there is), but worth a warning.
    public private(set) var isPoorlySeparated = false
    private var average: PinAverage

    public enum Stage: Sendable, Equatable {
        /// Waiting for the value applied for point 1 or 2.
        case awaitingValue(point: Int)
        /// Averaging the readings for point 1 or 2, whose value was typed.
        case measuring(point: Int, value: Double)
        case finished(Calibration)
    }

    /// What an answer or a reading did.
    public enum Outcome: Sendable, Equatable {
        /// The value was taken: the readings from now on measure this point.
        case measuring(point: Int)
        /// The second value is the first again: the two points would give no slope. Ask again.
        case sameValueAsFirst
        /// Still averaging: `taken` of ``samples`` readings.
        case progress(taken: Int)
        /// Point 1 is measured; ask for the second value.
        case firstPoint(Calibration.Point, spread: Double)
        /// Point 2's pin reading is within ``minimumSeparationVolts`` of point 1's. Ask again
        /// for a value farther from the first.
        case tooClose(first: Calibration.Point, pinVolts: Double)
        /// Both points are measured.
        case finished(Calibration, second: Calibration.Point, spread: Double)
        /// Nothing to do with it now (a reading while waiting for a value, a value while
        /// measuring, anything once finished).
        case ignored
    }

    public init(samples: Int) {
        precondition(samples >= 1, "a point needs at least one reading")
        self.samples = samples
        self.stage = .awaitingValue(point: 1)
        self.average = PinAverage(count: samples)
    }

    /// The calibration, once both points are measured.
    public var calibration: Calibration? {
        if case .finished(let calibration) = stage { return calibration }
        return nil
    }

    /// The person typed the value they applied.
    public mutating func enter(value: Double) -> Outcome {
        guard case .awaitingValue(let point) = stage, value.isFinite else { return .ignored }
        if point == 2, let first, first.value == value { return .sameValueAsFirst }
        stage = .measuring(point: point, value: value)
        average = PinAverage(count: samples)
        return .measuring(point: point)
    }

    /// A reading at the pin arrived.
    public mutating func add(pinVolts: Double) -> Outcome {
        guard case .measuring(let point, let value) = stage else { return .ignored }
        guard let result = average.add(pinVolts) else { return .progress(taken: average.taken) }
        let measured = Calibration.Point(pinVolts: Self.rounded(result.mean), value: value)
        if point == 1 {
            first = measured
            firstSpread = result.spread
            stage = .awaitingValue(point: 2)
            return .firstPoint(measured, spread: result.spread)
        }
        guard let first, abs(measured.pinVolts - first.pinVolts) >= Self.minimumSeparationVolts,
              let calibration = Calibration.points(first, measured) else {
            stage = .awaitingValue(point: 2)
            return .tooClose(first: first ?? measured, pinVolts: measured.pinVolts)
        }
        isPoorlySeparated = abs(measured.pinVolts - first.pinVolts) <= firstSpread + result.spread
        stage = .finished(calibration)
        return .finished(calibration, second: measured, spread: result.spread)
    }

    /// An average kept to 10 µV: far below an ADC step (4.9 mV), so nothing is lost, and the
    /// settings file a person reads says `1.00049`, not `1.0004899999999999`.
    static func rounded(_ volts: Double) -> Double {
        (volts * 100_000).rounded() / 100_000
    }
}
