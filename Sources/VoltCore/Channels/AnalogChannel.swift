/// One of the board's analog inputs, `A0` to `A5` (an Uno or Nano has six).
///
/// Frames name channels this way (`$VOLTS`, `$HELLO`'s channel set), and so do the settings
/// that give a channel its name, unit and calibration.
public struct AnalogChannel: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// 0 for A0 ... 5 for A5.
    public let index: UInt8

    /// Inputs an ATmega328P board offers: A0–A5.
    public static let count: UInt8 = 6
    public static let a0 = AnalogChannel(uncheckedIndex: 0)
    public static let all: [AnalogChannel] = (0..<count).map { AnalogChannel(uncheckedIndex: $0) }

    public init?(index: Int) {
        guard index >= 0, index < Int(AnalogChannel.count) else { return nil }
        self.index = UInt8(index)
    }

    private init(uncheckedIndex: UInt8) { index = uncheckedIndex }

    /// `A0`...`A5` (an `a` is accepted too: people type it).
    public init?(name: some StringProtocol) {
        self.init(ascii: name.utf8)
    }

    /// The same from the bytes of a frame's field, without building a string.
    public init?(ascii bytes: some Collection<UInt8>) {
        guard bytes.count == 2, let letter = bytes.first, letter == UInt8(ascii: "A") || letter == UInt8(ascii: "a"),
              let last = bytes.dropFirst().first, case let digit = last &- UInt8(ascii: "0"), digit < AnalogChannel.count else { return nil }
        index = digit
    }

    public var name: String { "A\(index)" }
    public var description: String { name }

    public static func < (a: AnalogChannel, b: AnalogChannel) -> Bool { a.index < b.index }

    /// `A0+A1+A2`: how `$HELLO` and `$SET` write a channel set (a comma would split the field).
    public static func setText(_ channels: [AnalogChannel]) -> String {
        channels.map(\.name).joined(separator: "+")
    }

    /// Parses `A0+A2`: distinct channels, reported ascending. nil when a name is not a channel
    /// or appears twice.
    public static func parseSet(_ text: some StringProtocol) -> [AnalogChannel]? {
        var set: [AnalogChannel] = []
        for part in text.split(separator: "+", omittingEmptySubsequences: false) {
            guard let channel = AnalogChannel(name: part), !set.contains(channel) else { return nil }
            set.append(channel)
        }
        return set.isEmpty ? nil : set.sorted()
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let channel = AnalogChannel(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a channel (A0-A5): \(text)"))
        }
        self = channel
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
