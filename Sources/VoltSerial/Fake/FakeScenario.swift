/// What the fake device's generator plays.
public enum FakeScenario: String, Sendable, CaseIterable, CustomStringConvertible {
    /// 2.5 V with a few millivolts of noise: nothing should fire.
    case normal
    /// `normal` plus single-sample spikes and dips of 0.4–0.9 V every 5–15 s.
    case spikes
    /// `normal`, then after 30 s a slow rise of 4 mV/s (up to +1 V).
    case drift
    /// `normal` with 3 s of silence every 30 s; `seq` keeps counting, as on a flaky cable.
    case dropout
    /// Every 40 s the supply sags to 1.6 V for a second and the board reboots (`$HELLO`, seq 0).
    case brownout
    /// `normal` for 20 s, then 60 mV of noise; about 1 % corrupted lines (bad checksums,
    /// garbage) throughout.
    case noisy
    /// One minute of each of the above in turn.
    case mixed

    public var description: String { rawValue }

    public static var names: String { allCases.map(\.rawValue).joined(separator: "|") }
}
