/// Turns one line (without its terminator) into a ``Frame``, or says why it cannot.
///
/// Works on raw bytes, without building strings, because it runs for every line of a day-long
/// replay. Checksums follow NMEA 0183: the XOR of every byte strictly between `$` and `*`,
/// written as two hex digits (either case).
public enum FrameParser {
    /// The largest magnitude accepted as a voltage. Anything beyond is not a reading of an
    /// Arduino's ADC (even behind a divider) but a corrupted line that passed the checksum.
    public static let maxAbsoluteVolts = 1_000.0

    public static func parse(_ line: UnsafeBufferPointer<UInt8>) throws(LineRejection) -> Frame {
        guard let first = line.first else { throw LineRejection(.syntax, "empty line") }
        if first == UInt8(ascii: "$") {
            return try parseSentence(line)
        }
        return .legacy(volts: try parseLegacy(line))
    }

    /// Convenience for tests and tools that hold lines as strings.
    public static func parse(_ line: String) throws(LineRejection) -> Frame {
        var copy = line
        let result: Result<Frame, LineRejection> = copy.withUTF8 { bytes in
            do throws(LineRejection) { return .success(try parse(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Appends `*CS` to a sentence body (`VOLT,1,100,512,2.502`), producing `$VOLT,...*CS`.
    /// The firmware, the fake device and tests all build frames with it.
    public static func sentence(_ body: String) -> String {
        var sum: UInt8 = 0
        for byte in body.utf8 { sum ^= byte }
        let hex: [Character] = Array("0123456789ABCDEF")
        return "$" + body + "*" + String(hex[Int(sum >> 4)]) + String(hex[Int(sum & 0x0F)])
    }

    // MARK: - Sentences

    private static func parseSentence(_ line: UnsafeBufferPointer<UInt8>) throws(LineRejection) -> Frame {
        let count = line.count
        // `$` body `*` h h  — the star must be exactly three bytes from the end.
        guard count >= 4, line[count - 3] == UInt8(ascii: "*") else {
            if line.contains(UInt8(ascii: "*")) {
                throw LineRejection(.checksum, "checksum must be two hex digits after '*'")
            }
            throw LineRejection(.checksum, "missing '*' checksum")
        }
        guard let high = hexValue(line[count - 2]), let low = hexValue(line[count - 1]) else {
            throw LineRejection(.checksum, "checksum must be two hex digits after '*'")
        }
        let bodyEnd = count - 3
        var sum: UInt8 = 0
        var i = 1
        while i < bodyEnd {
            sum ^= line[i]
            i += 1
        }
        let expected = high << 4 | low
        guard sum == expected else {
            throw LineRejection(.checksum, "checksum \(hex2(expected)) does not match payload (\(hex2(sum)))")
        }
        let body = UnsafeBufferPointer(rebasing: line[1..<bodyEnd])
        if let volt = fastVolt(body) { return .volt(volt) }
        var fields = FieldCursor(body)
        let tag = fields.next()
        if equals(tag, "VOLT") {
            return .volt(try parseVolt(&fields))
        }
        if equals(tag, "VOLTS") {
            return .channels(try parseChannels(&fields))
        }
        if equals(tag, "HELLO") {
            return .hello(try parseHello(&fields))
        }
        throw LineRejection(.syntax, "unknown sentence '\(text(tag))'")
    }

    private static func parseVolt(_ fields: inout FieldCursor) throws(LineRejection) -> VoltFrame {
        let seq = try unsigned(fields.next(), name: "seq", max: UInt64(UInt32.max))
        let uptime = try unsigned(fields.next(), name: "uptime_ms", max: UInt64(UInt32.max))
        let adc = try unsigned(fields.next(), name: "adc_raw", max: 65_535)
        guard let voltsField = fields.next() else { throw LineRejection(.syntax, "$VOLT needs 4 fields") }
        guard fields.isAtEnd else { throw LineRejection(.syntax, "$VOLT has more than 4 fields") }
        let volts = try voltage(voltsField)
        return VoltFrame(seq: UInt32(seq), uptimeMs: UInt32(uptime), adcRaw: UInt32(adc), volts: volts)
    }

    /// `<seq>,<uptime_ms>` then 1 to 6 `<ch>,<adc_raw>,<volts>` triples, channels ascending.
    private static func parseChannels(_ fields: inout FieldCursor) throws(LineRejection) -> ChannelsFrame {
        let seq = try unsigned(fields.next(), name: "seq", max: UInt64(UInt32.max))
        let uptime = try unsigned(fields.next(), name: "uptime_ms", max: UInt64(UInt32.max))
        var readings: [ChannelReading] = []
        readings.reserveCapacity(Int(AnalogChannel.count))
        while let name = fields.next() {
            guard let channel = AnalogChannel(ascii: name) else {
                throw LineRejection(.syntax, "$VOLTS channel '\(text(name, limit: 8))' is not A0-A5")
            }
            if let last = readings.last, last.channel >= channel {
                throw LineRejection(.syntax, "$VOLTS channels must be ascending, each once (\(channel) after \(last.channel))")
            }
            let adc = try unsigned(fields.next(), name: "adc_raw", max: 65_535)
            guard let voltsField = fields.next() else { throw LineRejection(.syntax, "$VOLTS channel \(channel) needs adc_raw and volts") }
            readings.append(ChannelReading(channel: channel, adcRaw: UInt32(adc), volts: try voltage(voltsField)))
        }
        guard !readings.isEmpty else { throw LineRejection(.syntax, "$VOLTS needs at least one channel") }
        return ChannelsFrame(seq: UInt32(seq), uptimeMs: UInt32(uptime), readings: readings)
    }

    private static func parseHello(_ fields: inout FieldCursor) throws(LineRejection) -> Hello {
        guard let firmware = fields.next(), let version = fields.next(), let board = fields.next() else {
            throw LineRejection(.syntax, "$HELLO needs 6 fields")
        }
        let vref = try unsigned(fields.next(), name: "vref_mv", max: 100_000)
        let bits = try unsigned(fields.next(), name: "adc_bits", max: 32)
        let period = try unsigned(fields.next(), name: "period_ms", max: UInt64(UInt32.max))
        var channels: [AnalogChannel]?
        if let set = fields.next() {
            guard let parsed = AnalogChannel.parseSet(text(set)) else {
                throw LineRejection(.syntax, "$HELLO channels '\(text(set, limit: 24))' are not distinct A0-A5 joined by '+'")
            }
            channels = parsed
        }
        guard fields.isAtEnd else { throw LineRejection(.syntax, "$HELLO has more than 7 fields") }
        guard period > 0 else { throw LineRejection(.outOfRange, "period_ms must be positive") }
        return Hello(
            firmware: text(firmware), version: text(version), board: text(board),
            vrefMillivolts: Int(vref), adcBits: Int(bits), periodMs: Int(period), channels: channels
        )
    }

    /// The common case in one pass: `VOLT,<seq>,<uptime>,<adc>,<volts>` with plain digits and
    /// every value in range. Anything else returns nil and takes the general path, which
    /// explains what is wrong.
    @inline(__always)
    private static func fastVolt(_ body: UnsafeBufferPointer<UInt8>) -> VoltFrame? {
        let n = body.count
        guard n > 5, body[0] == UInt8(ascii: "V"), body[1] == UInt8(ascii: "O"), body[2] == UInt8(ascii: "L"),
              body[3] == UInt8(ascii: "T"), body[4] == UInt8(ascii: ",") else { return nil }
        var i = 5
        var numbers: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for field in 0..<3 {
            var value: UInt64 = 0
            let start = i
            while i < n, case let d = body[i] &- UInt8(ascii: "0"), d < 10 {
                value = value &* 10 &+ UInt64(d)
                i += 1
            }
            // 1-10 digits, then a comma.
            guard i > start, i - start <= 10, i < n, body[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            switch field {
            case 0: numbers.0 = value
            case 1: numbers.1 = value
            default: numbers.2 = value
            }
        }
        guard numbers.0 <= UInt64(UInt32.max), numbers.1 <= UInt64(UInt32.max), numbers.2 <= 65_535,
              let volts = DecimalParser.parse(UnsafeBufferPointer(rebasing: body[i..<n])),
              volts.isFinite, abs(volts) <= maxAbsoluteVolts else { return nil }
        return VoltFrame(seq: UInt32(numbers.0), uptimeMs: UInt32(numbers.1), adcRaw: UInt32(numbers.2), volts: volts)
    }

    // MARK: - Legacy numbers

    private static func parseLegacy(_ line: UnsafeBufferPointer<UInt8>) throws(LineRejection) -> Double {
        var start = 0
        var end = line.count
        while start < end && isSpace(line[start]) { start += 1 }
        while end > start && isSpace(line[end - 1]) { end -= 1 }
        guard start < end else { throw LineRejection(.syntax, "blank line") }
        let field = UnsafeBufferPointer(rebasing: line[start..<end])
        guard let value = DecimalParser.parse(field) else {
            throw LineRejection(.syntax, "not a frame or a number: '\(text(field, limit: 24))'")
        }
        guard value.isFinite, abs(value) <= maxAbsoluteVolts else {
            throw LineRejection(.outOfRange, "voltage \(text(field, limit: 24)) is out of range")
        }
        return value
    }

    // MARK: - Fields

    private static func voltage(_ field: UnsafeBufferPointer<UInt8>) throws(LineRejection) -> Double {
        guard let value = DecimalParser.parse(field) else {
            throw LineRejection(.syntax, "volts '\(text(field, limit: 24))' is not a decimal number")
        }
        guard value.isFinite, abs(value) <= maxAbsoluteVolts else {
            throw LineRejection(.outOfRange, "volts \(text(field, limit: 24)) is out of range")
        }
        return value
    }

    private static func unsigned(
        _ field: UnsafeBufferPointer<UInt8>?, name: String, max: UInt64
    ) throws(LineRejection) -> UInt64 {
        guard let field, !field.isEmpty else { throw LineRejection(.syntax, "missing \(name)") }
        var value: UInt64 = 0
        for byte in field {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { throw LineRejection(.syntax, "\(name) '\(text(field, limit: 24))' is not a whole number") }
            // 20 digits can overflow UInt64; anything past `max` is out of range anyway.
            if value > (UInt64.max - 9) / 10 { throw LineRejection(.outOfRange, "\(name) is too large") }
            value = value * 10 + UInt64(digit)
        }
        guard value <= max else { throw LineRejection(.outOfRange, "\(name) \(value) exceeds \(max)") }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func hex2(_ value: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(digits[Int(value >> 4)]) + String(digits[Int(value & 0xF)])
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D
    }

    private static func equals(_ field: UnsafeBufferPointer<UInt8>?, _ literal: StaticString) -> Bool {
        guard let field, field.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for i in 0..<field.count where field[i] != lit[i] { return false }
        return true
    }

    static func text(_ field: UnsafeBufferPointer<UInt8>?, limit: Int = 64) -> String {
        guard let field else { return "" }
        let clipped = UnsafeBufferPointer(rebasing: field[0..<min(field.count, limit)])
        // Garbage is common here; never let invalid UTF-8 or control bytes into logs.
        return String(decoding: clipped, as: UTF8.self).unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0)
        }.joined()
    }
}

/// Walks comma-separated fields without allocating.
struct FieldCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var exhausted = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { exhausted }

    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        if exhausted { return nil }
        var end = position
        while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
        let field = UnsafeBufferPointer(rebasing: bytes[position..<end])
        if end >= bytes.count { exhausted = true } else { position = end + 1 }
        return field
    }
}
