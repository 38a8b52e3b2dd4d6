/// Why a line from the board was not accepted. Every rejected line is counted under one of
/// these reasons and skipped; none of them stops the stream.
public enum RejectionReason: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// The `*CS` checksum is missing its two hex digits or does not match the payload.
    case checksum
    /// Not a frame we know: garbage, a truncated frame, wrong field count, bad number.
    case syntax
    /// Longer than the 128-byte limit (counted by the framer).
    case tooLong = "too_long"
    /// Well-formed but impossible: a non-finite voltage, an ADC value beyond its bits.
    case outOfRange = "out_of_range"

    public var description: String { rawValue }
}

/// A rejected line: the reason and a short explanation for logs.
public struct LineRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectionReason
    public var detail: String

    public init(_ reason: RejectionReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}

/// Counts of rejected lines by reason.
public struct RejectionCounts: Sendable, Equatable, Codable {
    public var checksum = 0
    public var syntax = 0
    public var tooLong = 0
    public var outOfRange = 0

    public init() {}

    public var total: Int { checksum + syntax + tooLong + outOfRange }

    public subscript(reason: RejectionReason) -> Int {
        get {
            switch reason {
            case .checksum: checksum
            case .syntax: syntax
            case .tooLong: tooLong
            case .outOfRange: outOfRange
            }
        }
        set {
            switch reason {
            case .checksum: checksum = newValue
            case .syntax: syntax = newValue
            case .tooLong: tooLong = newValue
            case .outOfRange: outOfRange = newValue
            }
        }
    }

    public mutating func add(_ other: RejectionCounts) {
        for reason in RejectionReason.allCases { self[reason] += other[reason] }
    }

    /// Every reason with its count, `checksum 0, syntax 3, too_long 0, out_of_range 0`, for
    /// summaries a person reads.
    public var breakdown: String {
        RejectionReason.allCases.map { "\($0) \(self[$0])" }.joined(separator: ", ")
    }

    enum CodingKeys: String, CodingKey {
        case checksum, syntax
        case tooLong = "too_long"
        case outOfRange = "out_of_range"
    }
}
