import VoltAgent
import VoltCore
import VoltHistory
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replays one input file into one output.
struct FileReplay: Sendable {
    /// Errors listed per file in the summary; the rest are only counted.
    static let listedErrors = 5

    let input: String
    /// nil: the caller passes the output (standard output).
    let output: String?
    /// `--device`, when given; else the recording's own device id; else the file's stem.
    let device: String?
    let stem: String
    let config: ModelConfig
    /// `--settings`: names, units and calibrations that replace the recording's own.
    let settings: AgentSettings?
    let speed: Double?
    let progress: Bool
    /// `--db`: every result and episode also goes into this history store.
    var history: HistoryRecorder? = nil

    /// The argument that names standard input, as most Unix tools take it.
    static let standardInput = "-"

    /// The input as messages name it.
    var displayName: String { input == Self.standardInput ? "standard input" : input }

    /// Replays into its own output file.
    func run() -> ReplayReport {
        guard let output else { preconditionFailure("run() needs an output path") }
        let file: OutputFile
        do {
            file = try OutputFile.create(output)
        } catch {
            var report = ReplayReport()
            report.writeFailures.append("replay: \(error.description)")
            return report
        }
        var report = run(into: file)
        file.close()
        if let failure = file.failure { report.writeFailures.append(failure) }
        return report
    }

    func run(into out: OutputFile) -> ReplayReport {
        var report = ReplayReport()
        report.files = 1
        let reader: LineReader
        do {
            // /dev/stdin reopens descriptor 0 whatever it is (a pipe, a file, a terminal), so
            // standard input reads like any file.
            reader = try LineReader(path: input == Self.standardInput ? "/dev/stdin" : input)
        } catch {
            var error = error
            if input == Self.standardInput { error.path = displayName }
            StandardError.write("replay: \(error.description)\n")
            report.unreadable = 1
            return report
        }
        let size = reader.size
        var replayer = TraceReplayer(device: device ?? stem, config: config, settings: settings ?? .empty,
                                     keepSettings: settings != nil, deviceIsFixed: device != nil)
        var pacer = speed.map { Pacer(speed: $0) }
        // Asked for every line: a Bool, where asking the optional pacer (it holds a clock's
        // instant, whose layout is the runtime's to know) was a runtime call each time.
        let paced = pacer != nil
        var lastProgress = 0
        var encodedDevice: ResultEncoder.Device?
        var channelNames = EncodedNames()
        var flushedAt = 0
        do {
            try reader.forEachLine { line, number, consumed in
                let step = replayer.feed(line: line, number: number)
                if let history {
                    // As live: a silence opens its dropout episode before the line that ends it.
                    switch step {
                    case .result, .channels, .hello:
                        history.publish(episodes: replayer.stream.silences)
                    default:
                        break
                    }
                }
                // Consumed: bound to its cases without a copy of the result (retains and all).
                switch consume step {
                case .result(let result):
                    // The name is fixed by the first result (a recording's header precedes it).
                    if encodedDevice == nil { encodedDevice = ResultEncoder.Device(replayer.stream.device) }
                    let name = encodedDevice!
                    if paced { pacer!.wait(until: result.timestampMs) }
                    out.append { ResultEncoder.appendLine(result, device: name, to: &$0) }
                    if paced { out.flush() }
                    report.count(result)
                    if let history {
                        history.publish(.result(device: name.name, result))
                        let change = replayer.stream.lastEpisodeChange
                        if change != .none { history.publish(.episode(device: name.name, change)) }
                    }
                case .channels(let results):
                    if paced, let first = results.first { pacer!.wait(until: first.result.timestampMs) }
                    out.append { buffer in
                        for channel in results {
                            ResultEncoder.appendLine(channel.result, device: channelNames.name(channel.stream), to: &buffer)
                        }
                    }
                    if paced { out.flush() }
                    for channel in results {
                        report.count(channel.result)
                        history?.publish(.result(device: channel.stream, channel.result))
                        if channel.episodeChange != .none { history?.publish(.episode(device: channel.stream, channel.episodeChange)) }
                    }
                case .error(let error):
                    report.errorCount += 1
                    if report.errors.count < Self.listedErrors { report.errors.append("\(displayName): \(error)") }
                case .hello:
                    // A reboot ends every alarm in progress, as live.
                    history?.publish(episodes: replayer.stream.endedEpisodes)
                case .none, .rejected, .event:
                    break
                }
                // A day of 10 Hz is 864,000 results: write them a batch at a time, not all at the end.
                if let history, report.samples - flushedAt >= 100_000 {
                    flushedAt = report.samples
                    history.flush()
                }
                if progress && number - lastProgress >= 50_000 {
                    lastProgress = number
                    let percent = size.map { $0 > 0 ? " (\(consumed * 100 / $0) %)" : "" } ?? ""
                    StandardError.write("\r\u{1B}[Kreplaying \(displayName): \(report.samples) samples\(percent)")
                }
            }
        } catch {
            var error = error
            if input == Self.standardInput { error.path = displayName }
            StandardError.write("replay: \(error.description)\n")
            report.unreadable = 1
        }
        if progress && lastProgress > 0 { StandardError.write("\r\u{1B}[K") }
        if report.unreadable == 0, let reason = replayer.nothingScoredReason {
            report.unusable.append("\(displayName): \(reason)")
        }
        report.invalid = replayer.counters.invalid
        report.lost = replayer.counters.lost
        report.labels = replayer.labels
        return report
    }
}

/// Stream ids escaped once each, for the results of a `$VOLTS` board's channels.
struct EncodedNames {
    private var names: [String: ResultEncoder.Device] = [:]

    mutating func name(_ stream: String) -> ResultEncoder.Device {
        if let known = names[stream] { return known }
        let encoded = ResultEncoder.Device(stream)
        names[stream] = encoded
        return encoded
    }
}

/// Sleeps so results come out at `speed` times the pace of their timestamps.
struct Pacer {
    let speed: Double
    private var origin: (fileMs: Int64, wall: ContinuousClock.Instant)?

    init(speed: Double) { self.speed = speed }

    mutating func wait(until timestampMs: Int64) {
        let now = ContinuousClock.now
        guard let origin else {
            self.origin = (timestampMs, now)
            return
        }
        let offsetMs = Double(timestampMs - origin.fileMs) / speed
        let due = origin.wall + .microseconds(Int64(offsetMs * 1000))
        if due > now {
            let wait = due - now
            var request = timespec(tv_sec: Int(wait.components.seconds), tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        }
    }
}
