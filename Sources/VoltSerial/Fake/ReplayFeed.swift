#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import VoltCore

/// Lines to play back from a file, each with its offset from the start.
///
/// Recordings (`<epoch_ms><TAB><line>`) play their lines byte for byte at the recorded
/// times. Serial captures and CSV go through the core's ``TraceReplayer`` and come out as
/// firmware frames (`$VOLT` with the recorded voltages, `$HELLO` where the board said hello),
/// timed by their timestamps.
public struct ReplayFeed: Sendable {
    public struct Item: Sendable, Equatable {
        public var offsetMs: Int64
        public var line: [UInt8]
    }

    public let items: [Item]
    /// Time from the first item to one period after the last: the length of one loop.
    public let durationMs: Int64

    public init(items: [Item], periodMs: Int64 = 100) {
        self.items = items
        self.durationMs = (items.last?.offsetMs ?? 0) + periodMs
    }

    /// Loads `path` (any format `voltwatch replay` reads).
    public static func load(_ path: String, config: ModelConfig) throws(ReplayFeedError) -> ReplayFeed {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path, limit: 512 << 20)
        } catch {
            throw ReplayFeedError(description: "cannot replay \(path): \(error.description)")
        }
        let feed = parse(bytes, config: config)
        guard !feed.items.isEmpty else {
            throw ReplayFeedError(description: "cannot replay \(path): no frames, numbers or CSV rows in it")
        }
        return feed
    }

    /// Builds the feed from a file's bytes.
    public static func parse(_ bytes: [UInt8], config: ModelConfig) -> ReplayFeed {
        var replayer = TraceReplayer(device: "replay", config: config)
        var items: [Item] = []
        var first: Int64?
        var seq: UInt32 = 0
        var number = 0
        let periodMs = Int64(config.periodMs.rounded())
        bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                number += 1
                var line = UnsafeBufferPointer(rebasing: all[start..<end])
                if let last = line.last, last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
                start = end + 1
                let step = replayer.feed(line: line, number: number)
                if replayer.format == .recording {
                    // Play the recorded bytes themselves at the recorded time.
                    guard let tab = line.firstIndex(of: 0x09), line.first != UInt8(ascii: "#"),
                          let ms = Int64(String(decoding: line[..<tab], as: UTF8.self)) else { continue }
                    let payload = Array(line[(tab + 1)...])
                    guard !payload.isEmpty else { continue }
                    if first == nil { first = ms }
                    items.append(Item(offsetMs: ms - first!, line: payload))
                    continue
                }
                switch step {
                case .result(let result):
                    if first == nil { first = result.timestampMs }
                    let offset = result.timestampMs - first!
                    let full = Double((1 << ScenarioGenerator.adcBits) - 1)
                    let adc = Int(min(full, max(0, (result.voltage / 5 * full).rounded())))
                    let s = result.seq ?? seq
                    let body = "VOLT,\(s),\(UInt32(truncatingIfNeeded: offset + 1_000)),\(adc),\(FixedPoint.format(result.voltage, digits: 3))"
                    items.append(Item(offsetMs: offset, line: Array(FrameParser.sentence(body).utf8)))
                    seq = s &+ 1
                case .channels(let channels):
                    guard let firstResult = channels.first?.result else { continue }
                    if first == nil { first = firstResult.timestampMs }
                    let offset = firstResult.timestampMs - first!
                    let s = firstResult.seq ?? seq
                    var body = "VOLTS,\(s),\(UInt32(truncatingIfNeeded: offset + 1_000))"
                    for channel in channels {
                        guard let name = channel.result.label?.channel?.name else { continue }
                        let volts = channel.result.pinVolts ?? channel.result.voltage
                        body += ",\(name),\(channel.result.adcRaw ?? 0),\(FixedPoint.format(volts, digits: 3))"
                    }
                    items.append(Item(offsetMs: offset, line: Array(FrameParser.sentence(body).utf8)))
                    seq = s &+ 1
                case .hello(let hello):
                    let offset = items.last?.offsetMs ?? 0
                    var body = "HELLO,\(hello.firmware),\(hello.version),\(hello.board),\(hello.vrefMillivolts),\(hello.adcBits),\(hello.periodMs)"
                    if let channels = hello.channels { body += "," + AnalogChannel.setText(channels) }
                    items.append(Item(offsetMs: offset, line: Array(FrameParser.sentence(body).utf8)))
                    seq = 0
                default:
                    break
                }
            }
        }
        return ReplayFeed(items: items, periodMs: periodMs)
    }
}

/// A `--replay` file that cannot be played.
public struct ReplayFeedError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Reads a whole file (the fake's replay input).
enum FileBytes {
    struct Failure: Error { var description: String }

    static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: Posix.describe(errno)) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { SystemCall.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: Posix.describe(errno))
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw Failure(description: "file too large") }
        }
    }
}
