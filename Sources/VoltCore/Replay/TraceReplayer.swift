/// Turns the lines of a recorded file into scored results, whatever its ``TraceFormat``.
///
/// Pure: the caller reads the file and writes the output, so the CLI's `replay`, the server's
/// `POST /api/replay` and the tests share one implementation. Recordings go through the very
/// ``DeviceStream`` the live reader uses, with the recorded receive times, which is what makes
/// a replay of a recording equal to what was scored live.
public struct TraceReplayer: Sendable {
    /// What one input line produced.
    public enum Step: Sendable, Equatable {
        /// Nothing to report (blank line, CSV header).
        case none
        case result(ScoredResult)
        /// The results of a `$VOLTS` frame, one per channel.
        case channels([DeviceStream.ChannelResult])
        case hello(Hello)
        /// A serial line the parser refused: counted, as live.
        case rejected(LineRejection)
        /// A `#` event line of a recording (connect, disconnect...).
        case event(String)
        /// The line does not fit the file's format.
        case error(TraceError)
    }

    /// The file's format: given to ``init(device:config:format:)``, or decided by the first line
    /// that fits one (``TraceFormat/classify(line:)``). Lines before it that fit no format, up to
    /// ``TraceFormat/lookaheadLines``, are refused and counted as a capture's are: while only
    /// such lines were seen, and after that many, the file is a serial capture.
    public var format: TraceFormat? {
        decided ?? (undecidedLines > 0 ? .serial : nil)
    }
    public private(set) var stream: DeviceStream
    /// Point-wise agreement with a CSV `label` column, when there is one.
    public private(set) var labels: LabelTally?
    /// Lines that did not fit the format.
    public private(set) var errorCount = 0
    /// The device a recording says it came from (its `voltwatch recording device=<id>`
    /// header), so a replay names results as the live agent did.
    public private(set) var recordedDevice: String?

    private var decided: TraceFormat?
    /// Non-blank lines seen before the format was decided, each refused as a serial line.
    private var undecidedLines = 0
    /// The first of them, for the hint when nothing could be scored.
    private var firstUndecided: String?
    private var csv: CSVLayout?
    /// The first line of a capture is behind us (see ``feedSerial(_:)``).
    private var sawFirstSerialLine = false
    private var syntheticClockMs: Int64 = 0
    private var lastUptime: UInt32?

    /// `settings`: names, units and calibrations to apply; a recording's own `settings` line
    /// (what was in effect live) replaces them unless `keepSettings` is set (the user gave
    /// settings of their own to try).
    ///
    /// `device` names the results unless a recording's header names its device first and
    /// `deviceIsFixed` is false (the user did not ask for a name with `--device`).
    public init(device: String, config: ModelConfig, settings: AgentSettings = .empty, keepSettings: Bool = false,
                deviceIsFixed: Bool = false, format: TraceFormat? = nil) {
        self.stream = DeviceStream(device: device, config: config, settings: settings)
        self.keepSettings = keepSettings
        self.deviceIsFixed = deviceIsFixed
        self.decided = format
    }

    private let deviceIsFixed: Bool

    /// Settings given by the user win over a recording's.
    private let keepSettings: Bool
    /// A recording's `settings` line that could not be read, for the caller to report.
    public private(set) var settingsProblem: String?

    public var counters: StreamCounters { stream.counters }

    /// Why the input as a whole gave nothing to score, asked once every line is fed: it was
    /// empty, or every frame in it was refused (a binary file, a capture taken at the wrong
    /// baud rate). Each refused line alone is only counted, as live; a file of nothing else is
    /// almost certainly the wrong file, and saying so beats an empty, successful answer.
    /// nil when something was scored, or the input held only events and greetings.
    public var nothingScoredReason: String? {
        guard format != nil else { return "the file is empty" }
        let invalid = counters.invalid
        guard counters.frames == 0, invalid.total > 0 else { return nil }
        var reason = "no line could be scored: \(invalid.total) invalid line\(invalid.total == 1 ? "" : "s") (\(invalid.breakdown))"
        // Comma-separated printable text that is no frame's tail: most likely a CSV row without
        // its header, which is what to say.
        if decided == nil || decided == .serial, let first = firstUndecided, first.contains(","),
           first.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "*" && $0 != "$" }) {
            reason += "; if this is a CSV, its first line must be a header naming a time column (timestamp or timestamp_ms) and a value column (voltage or value)"
        }
        return reason
    }

    /// Feeds one line of the file (terminator removed); `number` is 1-based, for errors.
    public mutating func feed(line: UnsafeBufferPointer<UInt8>, number: Int) -> Step {
        var bytes = line
        if let last = bytes.last, last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.isEmpty { return .none }
        if decided == nil {
            let text = String(decoding: bytes, as: UTF8.self)
            if text.trimmingASCIIWhitespace().isEmpty { return .none }
            if let format = TraceFormat.classify(line: text) {
                decided = format
            } else {
                // A frame's tail or noise: refused as a capture refuses it, and the next line
                // gets to decide, unless too many such lines came first.
                if firstUndecided == nil { firstUndecided = String(text.prefix(80)) }
                undecidedLines += 1
                if undecidedLines >= TraceFormat.lookaheadLines { decided = .serial }
                return feedSerial(bytes)
            }
        }
        let step: Step
        switch decided! {
        case .recording: step = feedRecording(bytes, number: number)
        case .serial: step = feedSerial(bytes)
        case .csv: step = feedCSV(bytes, number: number)
        }
        if case .error = step { errorCount += 1 }
        return step
    }

    public mutating func feed(line: String, number: Int) -> Step {
        var copy = line
        return copy.withUTF8 { feed(line: $0, number: number) }
    }

    // MARK: Recordings

    private mutating func feedRecording(_ line: UnsafeBufferPointer<UInt8>, number: Int) -> Step {
        if line[0] == UInt8(ascii: "#") {
            let event = String(decoding: line.dropFirst(), as: UTF8.self).trimmingASCIIWhitespace()
            noteEvent(event)
            return .event(event)
        }
        var tab = 0
        var ms: Int64 = 0
        while tab < line.count && line[tab] != 0x09 {
            let d = line[tab] &- UInt8(ascii: "0")
            guard d < 10, tab < 17 else {
                return .error(TraceError(line: number, message: "expected <epoch_ms><TAB><line>, found '\(FrameParser.text(line, limit: 40))'"))
            }
            ms = ms * 10 + Int64(d)
            tab += 1
        }
        guard tab > 0, tab < line.count else {
            return .error(TraceError(line: number, message: "expected <epoch_ms><TAB><line>, found '\(FrameParser.text(line, limit: 40))'"))
        }
        let payload = UnsafeBufferPointer(rebasing: line[(tab + 1)...])
        if payload.count > LineFramer.defaultMaxLineLength {
            stream.countOverlong(1)
            return .rejected(LineRejection(.tooLong, "line of \(payload.count) bytes"))
        }
        if payload.isEmpty { return .none }
        return translate(stream.ingest(line: payload, receivedAtMs: ms))
    }

    /// Events the recorder writes that change what live scoring counted.
    private mutating func noteEvent(_ event: String) {
        // `<epoch_ms> <text>`
        let text = event.drop { $0 != " " }.dropFirst()
        if text.hasPrefix(RecordingEvent.header) {
            for word in text.split(separator: " ") where word.hasPrefix("device=") {
                let id = word.dropFirst("device=".count)
                if !id.isEmpty { recordedDevice = String(id) }
            }
            // Results carry the recorded device's name, as they did live.
            if let recordedDevice, !deviceIsFixed, recordedDevice != stream.device, stream.counters.frames == 0 {
                stream = DeviceStream(device: recordedDevice, config: stream.config, settings: stream.settings)
            }
        } else if text.hasPrefix(RecordingEvent.droppedPartialLine) {
            stream.countRejected(.syntax)
        } else if text.hasPrefix(RecordingEvent.settings + " "), !keepSettings {
            do {
                var settings = try AgentSettings.parse(json: String(text.dropFirst(RecordingEvent.settings.count + 1)))
                if let recordedDevice, recordedDevice != stream.device {
                    settings = settings.renamingDevice(recordedDevice, to: stream.device)
                }
                // Every file of a recording repeats the settings at its top; only a change
                // (a reload live) starts the windows again, as it did live.
                if settings != stream.settings { stream.apply(stream.config, settings: settings) }
            } catch {
                if settingsProblem == nil { settingsProblem = "the recording's settings line was refused: \(error.issues.map(\.description).joined(separator: "; "))" }
            }
        }
    }

    // MARK: Plain serial captures

    /// A capture has no receive times: the board's uptime stands in when frames carry it,
    /// otherwise samples are assumed one period apart, starting at the epoch.
    ///
    /// Its first line is refused unless it starts with `$`, by the rule the live reader applies
    /// after opening a port (`PartialLineDropper`): a capture taken while the board was sending
    /// starts with the tail of a line, and a tail can look like a number (`42` of `...*42`).
    private mutating func feedSerial(_ line: UnsafeBufferPointer<UInt8>) -> Step {
        if !sawFirstSerialLine {
            sawFirstSerialLine = true
            if line.first != UInt8(ascii: "$") {
                stream.countRejected(.syntax)
                return .rejected(LineRejection(.syntax, "partial first line of a capture: '\(FrameParser.text(line, limit: 40))'"))
            }
        }
        if line.count > LineFramer.defaultMaxLineLength {
            stream.countOverlong(1)
            return .rejected(LineRejection(.tooLong, "line of \(line.count) bytes"))
        }
        let frame: Frame
        do {
            frame = try FrameParser.parse(line)
        } catch {
            return translate(stream.ingest(line: line, receivedAtMs: syntheticClockMs))
        }
        switch frame {
        case .volt(let volt):
            if let lastUptime {
                syntheticClockMs += Int64(volt.uptimeMs &- lastUptime)
            } else {
                syntheticClockMs = Int64(volt.uptimeMs)
            }
            lastUptime = volt.uptimeMs
        case .legacy:
            if stream.counters.frames > 0 { syntheticClockMs += Int64(stream.config.periodMs.rounded()) }
        case .channels(let channels):
            if let lastUptime {
                syntheticClockMs += Int64(channels.uptimeMs &- lastUptime)
            } else {
                syntheticClockMs = Int64(channels.uptimeMs)
            }
            lastUptime = channels.uptimeMs
        case .hello:
            lastUptime = nil
        }
        return translate(stream.ingest(frame: frame, receivedAtMs: syntheticClockMs))
    }

    // MARK: CSV

    private mutating func feedCSV(_ line: UnsafeBufferPointer<UInt8>, number: Int) -> Step {
        guard let layout = csv else {
            switch CSVLayout.parse(header: String(decoding: line, as: UTF8.self)) {
            case .success(let layout):
                csv = layout
                if layout.label != nil { labels = LabelTally() }
                return .none
            case .failure(let failure):
                return .error(TraceError(line: number, message: failure.message))
            }
        }
        var fields = FieldCursor(line)
        var index = 0
        var time: UnsafeBufferPointer<UInt8>?
        var value: UnsafeBufferPointer<UInt8>?
        var label: UnsafeBufferPointer<UInt8>?
        while let field = fields.next() {
            if index == layout.time { time = field } else if index == layout.value { value = field } else if index == layout.label { label = field }
            index += 1
        }
        guard let time, let value else {
            return .error(TraceError(line: number, message: "expected \(layout.columnCount) columns, found \(index)"))
        }
        guard let ms = layout.timeUnit.milliseconds(trimmed(time)) else {
            return .error(TraceError(line: number, message: "\(layout.timeName) '\(FrameParser.text(time, limit: 40))' is not a \(layout.timeUnit.expected)"))
        }
        guard let volts = DecimalParser.parse(trimmed(value)), volts.isFinite else {
            return .error(TraceError(line: number, message: "\(layout.valueName) '\(FrameParser.text(value, limit: 40))' is not a number"))
        }
        var truth: Bool?
        if layout.label != nil {
            guard let label, let parsed = CSVLayout.label(trimmed(label)) else {
                return .error(TraceError(line: number, message: "label '\(FrameParser.text(label, limit: 20))' must be 0 or 1"))
            }
            truth = parsed
        }
        let result = stream.ingest(sample: Sample(volts: volts, receivedAtMs: ms))
        if let truth { labels?.add(predicted: result.isAnomaly, actual: truth) }
        return .result(result)
    }

    private func trimmed(_ field: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = field.count
        while start < end && (field[start] == 0x20 || field[start] == 0x22) { start += 1 }
        while end > start && (field[end - 1] == 0x20 || field[end - 1] == 0x22) { end -= 1 }
        return UnsafeBufferPointer(rebasing: field[start..<end])
    }

    private func translate(_ output: DeviceStream.Output) -> Step {
        switch output {
        case .result(let r): .result(r)
        case .channels(let c): .channels(c)
        case .hello(let h): .hello(h)
        case .rejected(let e): .rejected(e)
        }
    }
}

/// Point-wise confusion counts against a CSV's `label` column: the precision, recall and F1
/// the original ICS backend reported.
public struct LabelTally: Sendable, Equatable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var trueNegatives = 0

    public init() {}

    public mutating func add(predicted: Bool, actual: Bool) {
        switch (predicted, actual) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, true): falseNegatives += 1
        case (false, false): trueNegatives += 1
        }
    }

    public mutating func add(_ other: LabelTally) {
        truePositives += other.truePositives
        falsePositives += other.falsePositives
        falseNegatives += other.falseNegatives
        trueNegatives += other.trueNegatives
    }

    public var precision: Double {
        truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    public var recall: Double {
        truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
    }
    public var f1: Double {
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}
