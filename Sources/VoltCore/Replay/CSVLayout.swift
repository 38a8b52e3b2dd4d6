/// Which columns of a CSV hold the time, the value and the optional label.
///
/// Plain numbers and enums only, no strings: the replayer reads it for every line of a file
/// that may hold millions, and strings would make each read a reference count. The column
/// names it reports are the header's own, which can only be the names it was found by.
struct CSVLayout: Sendable {
    /// How the time column is written.
    enum TimeUnit: Sendable {
        /// `timestamp_ms`: epoch milliseconds.
        case milliseconds
        /// `timestamp`: epoch seconds (with a fraction), epoch milliseconds (a number above
        /// 10^11, i.e. after 1973 in milliseconds) or ISO 8601 (`2014-04-01 00:00:00`, UTC
        /// unless it names an offset).
        case flexible

        var expected: String {
            switch self {
            case .milliseconds: "number of epoch milliseconds"
            case .flexible: "time (epoch seconds, epoch milliseconds or ISO 8601)"
            }
        }

        /// The header's name for this time column.
        var name: String {
            switch self {
            case .milliseconds: "timestamp_ms"
            case .flexible: "timestamp"
            }
        }

        func milliseconds(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
            // Whole numbers (nearly every file) directly: the same value the decimal path
            // gives them, without a rounding call per line.
            if let whole = TimeUnit.wholeNumber(field) {
                switch self {
                case .milliseconds: return whole
                case .flexible: return whole >= 100_000_000_000 ? whole : whole * 1000
                }
            }
            if let number = DecimalParser.parse(field), number.isFinite, abs(number) < 1e16 {
                switch self {
                case .milliseconds: return Int64(number.rounded())
                case .flexible: return abs(number) >= 1e11 ? Int64(number.rounded()) : Int64((number * 1000).rounded())
                }
            }
            guard case .flexible = self else { return nil }
            return ISO8601.milliseconds(String(decoding: field, as: UTF8.self))
        }

        /// `field` as a number of 1 to 15 plain digits (below the 10^16 the decimal path
        /// accepts, and exact in a double, so both paths agree); nil for anything else.
        static func wholeNumber(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
            guard !field.isEmpty, field.count <= 15 else { return nil }
            var value: Int64 = 0
            for byte in field {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value &* 10 &+ Int64(digit)
            }
            return value
        }
    }

    /// The value column's name in the header.
    enum ValueName: String, Sendable {
        case voltage, value
    }

    var time: Int
    var value: Int
    var label: Int?
    var columnCount: Int
    var timeUnit: TimeUnit
    var valueColumn: ValueName

    var timeName: String { timeUnit.name }
    var valueName: String { valueColumn.rawValue }

    static func parse(header: String) -> Result<CSVLayout, CSVHeaderError> {
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingASCIIWhitespace().lowercased().filter { $0 != "\"" }
        }
        let timeIndex = names.firstIndex(of: "timestamp_ms") ?? names.firstIndex(of: "timestamp")
        let valueIndex = names.firstIndex(of: "voltage") ?? names.firstIndex(of: "value")
        guard let timeIndex, let valueIndex else {
            var missing: [String] = []
            if timeIndex == nil { missing.append("a time column (timestamp or timestamp_ms)") }
            if valueIndex == nil { missing.append("a value column (voltage or value)") }
            return .failure(CSVHeaderError(message: "CSV header '\(header.prefix(80))' lacks \(missing.joined(separator: " and "))"))
        }
        return .success(CSVLayout(
            time: timeIndex, value: valueIndex, label: names.firstIndex(of: "label"),
            columnCount: names.count,
            timeUnit: names[timeIndex] == "timestamp_ms" ? .milliseconds : .flexible,
            valueColumn: names[valueIndex] == "voltage" ? .voltage : .value))
    }

    static func label(_ field: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch String(decoding: field, as: UTF8.self).lowercased() {
        case "1", "1.0", "true", "yes": true
        case "0", "0.0", "false", "no", "": false
        default: nil
        }
    }
}

/// ISO 8601 date-times as CSV exports write them, without Foundation's date machinery
/// (which the pure core avoids): `YYYY-MM-DD[ T]hh:mm[:ss[.fff]][Z|±hh[:]mm]`.
enum ISO8601 {
    static func milliseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= b.count else { return nil }
            var v = 0
            for k in 0..<digits {
                let d = Int(b[i + k]) - 48
                guard d >= 0 && d < 10 else { return nil }
                v = v * 10 + d
            }
            i += digits
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0
        if i < b.count {
            guard b[i] == 0x20 || b[i] == 0x54 else { return nil }
            i += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h; minute = m
            if expect(58) {
                guard let s = number(2), s <= 60 else { return nil }
                second = s
                if expect(46) || expect(44) {
                    var scale = 100
                    var any = false
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        millis += Int(b[i] - 48) * scale
                        scale /= 10
                        any = true
                        i += 1
                    }
                    guard any else { return nil }
                }
            }
        }
        var offsetMinutes = 0
        if i < b.count {
            if b[i] == 0x5A { i += 1 } else if b[i] == 0x2B || b[i] == 0x2D {
                let sign = b[i] == 0x2D ? -1 : 1
                i += 1
                guard let oh = number(2) else { return nil }
                _ = expect(58)
                let om = number(2) ?? 0
                offsetMinutes = sign * (oh * 60 + om)
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A CSV whose header does not name the columns replay needs.
struct CSVHeaderError: Error {
    var message: String
}
