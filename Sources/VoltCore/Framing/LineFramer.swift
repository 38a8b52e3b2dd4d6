/// Splits a byte stream into lines, incrementally.
///
/// The serial port hands us bytes in whatever chunks the kernel had ready, so a frame can be
/// split anywhere. The framer keeps the partial line between calls, so feeding a stream one
/// byte at a time yields exactly the lines that feeding it whole does.
///
/// Lines end with `\n`; a `\r` right before it is dropped. A `$` also starts a new line, as
/// NMEA readers resynchronise: bytes before it (line noise, a frame whose newline was lost)
/// become a line of their own, and the sentence after it is not lost with them — its checksum
/// protects it. Lines longer than
/// ``maxLineLength`` bytes (terminator excluded) are discarded whole and counted in
/// ``overlongLines``: a device that never sends a newline cannot make us buffer without bound.
/// Empty lines are skipped silently.
public struct LineFramer: Sendable {
    /// The longest line, in bytes without its terminator, that DESIGN.md allows.
    public static let defaultMaxLineLength = 128

    /// The longest line kept, in bytes without the terminator.
    public let maxLineLength: Int
    /// Lines dropped because they exceeded ``maxLineLength``.
    public private(set) var overlongLines: Int = 0

    private var buffer: [UInt8]
    /// True while skipping the rest of an over-long line up to its newline.
    private var discarding = false

    public init(maxLineLength: Int = LineFramer.defaultMaxLineLength) {
        precondition(maxLineLength > 0, "maxLineLength must be positive")
        self.maxLineLength = maxLineLength
        self.buffer = []
        self.buffer.reserveCapacity(maxLineLength + 1)
    }

    /// Bytes of an unfinished line are held (or being discarded).
    public var hasPartialLine: Bool { !buffer.isEmpty || discarding }

    /// Forgets any partial line, e.g. after (re)opening a port, where the first bytes are
    /// usually the tail of a frame the board was already sending.
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        discarding = false
    }

    /// Feeds bytes and calls `onLine` with each complete line (terminator removed).
    /// The buffer passed to `onLine` is only valid during the call.
    public mutating func append(
        _ bytes: UnsafeBufferPointer<UInt8>,
        onLine: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        guard let base = bytes.baseAddress else { return }
        let end = bytes.count
        var start = 0
        var p = 0
        while p < end {
            let byte = base[p]
            if byte == 0x0A {
                try finishLine(UnsafeBufferPointer(start: base + start, count: p - start), onLine)
                p += 1
                start = p
            } else if byte == 0x24 && (p > start || !buffer.isEmpty || discarding) {
                // `$` in the middle of a line: what came before is a line of its own.
                try finishLine(UnsafeBufferPointer(start: base + start, count: p - start), onLine)
                start = p
                p += 1
            } else {
                p += 1
            }
        }
        // No terminator yet: keep the partial line for the next call.
        stash(UnsafeBufferPointer(start: base + start, count: end - start))
    }

    /// Ends the current line with `segment` (its last bytes in this chunk).
    private mutating func finishLine(
        _ segment: UnsafeBufferPointer<UInt8>,
        _ onLine: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        if discarding {
            discarding = false
        } else if buffer.isEmpty {
            // Fast path: the whole line is inside this chunk; no copy.
            try emit(segment, onLine)
        } else {
            stash(segment)
            if !discarding {
                try buffer.withUnsafeBufferPointer { try emit($0, onLine) }
            } else {
                discarding = false
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Convenience for arrays and other contiguous collections of bytes.
    public mutating func append<Bytes: Sequence<UInt8>>(
        contentsOf bytes: Bytes,
        onLine: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        if let done = try bytes.withContiguousStorageIfAvailable({ try append($0, onLine: onLine) }) {
            return done
        }
        let array = Array(bytes)
        try array.withUnsafeBufferPointer { try append($0, onLine: onLine) }
    }

    private mutating func stash(_ segment: UnsafeBufferPointer<UInt8>) {
        if discarding { return }
        // +1 leaves room for a trailing '\r' that is not part of the line's length.
        if buffer.count + segment.count > maxLineLength + 1 {
            buffer.removeAll(keepingCapacity: true)
            discarding = true
            overlongLines += 1
            return
        }
        buffer.append(contentsOf: segment)
    }

    private mutating func emit(
        _ line: UnsafeBufferPointer<UInt8>,
        _ onLine: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        var count = line.count
        if count > 0 && line[count - 1] == 0x0D { count -= 1 }
        if count == 0 { return }
        if count > maxLineLength {
            overlongLines += 1
            return
        }
        try onLine(UnsafeBufferPointer(rebasing: line[0..<count]))
    }
}
