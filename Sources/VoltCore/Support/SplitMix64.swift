/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, well-mixed 64-bit generator whose
/// whole state is one word. Seedable and identical on every platform (the standard library's
/// generator is neither), so the fake board's scenarios and the tests' synthetic signals are
/// reproducible: same seed, same numbers.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in (0, 1]: never 0, so a logarithm of it stays finite.
    public mutating func positiveUnit() -> Double { Double((next() >> 11) + 1) * 0x1.0p-53 }
}
