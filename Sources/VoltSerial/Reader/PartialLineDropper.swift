/// Drops the partial first line after a port is opened.
///
/// Opening a port catches the board mid-frame: the first bytes are the tail of a line whose
/// start was never read. A tail cannot start with `$` (only frames start with it), so when
/// the first byte is `$` nothing is dropped; otherwise everything up to the first newline
/// goes. Bounded: after ``limit`` bytes without a newline, the framer takes over (and counts
/// the line as over-long).
public struct PartialLineDropper: Sendable, Equatable {
    public static let limit = 256

    public private(set) var active = true
    /// Bytes dropped so far.
    public private(set) var dropped = 0

    public init(active: Bool = true) { self.active = active }

    /// Returns how many leading bytes of `chunk` to drop.
    public mutating func bytesToDrop(in chunk: UnsafeBufferPointer<UInt8>) -> Int {
        guard active, !chunk.isEmpty else { return 0 }
        if dropped == 0 && chunk[0] == UInt8(ascii: "$") {
            active = false
            return 0
        }
        if let newline = chunk.firstIndex(of: 0x0A) {
            active = false
            dropped += newline + 1
            return newline + 1
        }
        dropped += chunk.count
        if dropped >= Self.limit { active = false }
        return chunk.count
    }
}
