/// The mean of a fixed number of readings at the pin, and how far they spread.
///
/// One reading carries the ADC's noise (a step is 4.9 mV on a 5 V Uno); a calibration point
/// taken from one reading would carry it into every value afterwards. The spread tells the
/// person whether the value they applied was steady while it was measured.
public struct PinAverage: Sendable, Equatable {
    /// The readings to average.
    public let count: Int
    /// Readings taken so far.
    public private(set) var taken = 0
    private var sum = 0.0
    private var low = Double.infinity
    private var high = -Double.infinity

    /// What the readings came to.
    public struct Result: Sendable, Equatable {
        public var mean: Double
        /// Largest minus smallest reading.
        public var spread: Double

        public init(mean: Double, spread: Double) {
            self.mean = mean
            self.spread = spread
        }
    }

    /// `count` is at least 1.
    public init(count: Int) {
        precondition(count >= 1, "an average needs at least one reading")
        self.count = count
    }

    public var isComplete: Bool { taken >= count }

    /// Adds one reading (non-finite ones are skipped); the result once `count` were taken.
    public mutating func add(_ volts: Double) -> Result? {
        guard !isComplete else { return result }
        guard volts.isFinite else { return nil }
        taken += 1
        sum += volts
        low = Swift.min(low, volts)
        high = Swift.max(high, volts)
        return result
    }

    /// The mean and spread, once `count` readings were taken.
    public var result: Result? {
        guard isComplete else { return nil }
        return Result(mean: sum / Double(taken), spread: high - low)
    }
}
