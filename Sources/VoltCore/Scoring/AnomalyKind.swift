/// What kind of misbehaviour a detector recognised. The raw values are the `kinds` strings
/// of DESIGN.md's `anomaly_result`.
public enum AnomalyKind: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// A short excursion above the recent median.
    case spike
    /// A short excursion below the recent median.
    case dip
    /// A slow, steady change away from the long baseline.
    case drift
    /// A step to a new level that persists.
    case levelShift = "level_shift"
    /// No samples for longer than the dropout timeout.
    case dropout
    /// The signal stopped changing at all (a frozen ADC, a broken wire held at a rail).
    case stuck
    /// The sample-to-sample variation rose well above its usual level.
    case noise
    /// A periodic component appeared.
    case oscillation
    /// Outside the configured volt limits.
    case outOfRange = "out_of_range"
    /// `seq` jumped: frames were lost between board and agent.
    case lostFrames = "lost_frames"
    /// Far from what the signal did at this time on earlier days (its daily rhythm broke).
    case pattern

    public var description: String { rawValue }

    /// A fixed bit per kind, in declaration order; a switch so the hot path never searches.
    var bit: UInt16 {
        switch self {
        case .spike: 1 << 0
        case .dip: 1 << 1
        case .drift: 1 << 2
        case .levelShift: 1 << 3
        case .dropout: 1 << 4
        case .stuck: 1 << 5
        case .noise: 1 << 6
        case .oscillation: 1 << 7
        case .outOfRange: 1 << 8
        case .lostFrames: 1 << 9
        case .pattern: 1 << 10
        }
    }
}

/// A set of ``AnomalyKind``s, stored as bits so a result carries it without allocating.
public struct AnomalyKinds: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    public private(set) var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init() { self.rawValue = 0 }
    public init(_ kind: AnomalyKind) { self.rawValue = kind.bit }

    public init<S: Sequence<AnomalyKind>>(_ kinds: S) {
        self.rawValue = kinds.reduce(0) { $0 | $1.bit }
    }

    public init(arrayLiteral kinds: AnomalyKind...) { self.init(kinds) }

    public var isEmpty: Bool { rawValue == 0 }
    public func contains(_ kind: AnomalyKind) -> Bool { rawValue & kind.bit != 0 }
    public mutating func insert(_ kind: AnomalyKind) { rawValue |= kind.bit }
    public mutating func formUnion(_ other: AnomalyKinds) { rawValue |= other.rawValue }

    /// In the fixed order of ``AnomalyKind/allCases``, so output is deterministic; walks the
    /// bits, so iterating (usually an empty set) allocates nothing.
    public func makeIterator() -> Iterator { Iterator(remaining: rawValue) }

    public struct Iterator: IteratorProtocol {
        var remaining: UInt16
        var index = 0

        public mutating func next() -> AnomalyKind? {
            while remaining != 0 {
                defer { remaining >>= 1; index += 1 }
                if remaining & 1 != 0 { return AnomalyKind.allCases[index] }
            }
            return nil
        }
    }

    public var description: String { "[" + map(\.rawValue).joined(separator: ", ") + "]" }
}
