/// A slow average that a detector learns its usual level with: the exact mean while fewer than
/// `warmup` values have come (the n-th weighs 1/n, so the first value is the mean at once and
/// the start-up guess does not linger), then exponentially weighted with weight `alpha`, so it
/// follows a signal that changes over about 1/alpha values and its state is two numbers
/// whatever the run length.
///
/// Detectors learn "barely" while the signal is unusual (``add(_:slowedBy:)``), so a fault is
/// not the norm at once, and take a new level outright once it has held (``reset(to:)``).
struct RunningMean: Sendable {
    private(set) var value: Double
    /// Values added so far.
    private(set) var count = 0
    private let warmup: Int
    private let alpha: Double

    /// `initial`: what ``value`` says before the first value is added.
    init(warmup: Int, alpha: Double, initial: Double = 0) {
        self.warmup = warmup
        self.alpha = alpha
        value = initial
    }

    /// Moves the mean towards `x` with the current weight divided by `factor`.
    mutating func add(_ x: Double, slowedBy factor: Double = 1) {
        count += 1
        let weight = count < warmup ? 1 / Double(count) : alpha
        value += (x - value) * (weight / factor)
    }

    /// Takes `x` as the mean outright (a level that held long enough to be the new normal).
    mutating func reset(to x: Double) {
        value = x
    }
}
