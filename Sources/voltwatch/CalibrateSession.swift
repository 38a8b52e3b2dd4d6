import VoltCore

/// The interactive part of `voltwatch calibrate`: waits for the agent and the stream, keeps the
/// live line current, asks, measures. It consumes ``CalibrateEvents`` alone, so whatever comes
/// (a reading, a typed line, a lost connection) is handled at whichever prompt is open.
///
/// What is pure (averaging, the rules of the two points, the answers' syntax) lives in
/// VoltCore's ``TwoPointCapture`` and ``PromptAnswer``, tested there; this type only wires them
/// to the events and the screen.
struct CalibrateSession {
    /// How long each step of getting started may take: connecting (until `hello`), then the
    /// first result of the stream (a board sends ten a second).
    static let startTimeout: Duration = .seconds(5)
    /// A stream silent this long is said to be silent on the live line.
    static let silentAfter: Duration = .seconds(3)

    let stream: String
    let console: LiveConsole
    let events: CalibrateEvents
    /// The unit values are typed in.
    var unit: String
    /// The calibration being made, applied to the live reading; and how to call it there.
    var preview: (calibration: Calibration, label: String)?

    private var iterator: AsyncStream<CalibrateEvent>.Iterator
    private(set) var latest: StreamReading?
    private var latestAt: ContinuousClock.Instant?
    private var seen: Set<String> = []
    private var connected = false
    /// Set once the connection ended where the session goes on without it (a divider).
    private(set) var lostAgent: String?
    /// Lines typed while no prompt was open, answered to the next prompts in order.
    private var pendingLines: [String] = []
    private var inputEnded = false

    init(stream: String, unit: String, console: LiveConsole, events: CalibrateEvents) {
        self.stream = stream
        self.unit = unit
        self.console = console
        self.events = events
        self.iterator = events.stream.makeAsyncIterator()
    }

    // MARK: Events

    /// The next event, with the bookkeeping every step needs done.
    private mutating func next() async -> CalibrateEvent {
        guard let event = await iterator.next() else { return .agentGone("the session's events ended") }
        switch event {
        case .agent(.hello(let streams)):
            connected = true
            seen.formUnion(streams)
        case .agent(.result(let reading)):
            seen.insert(reading.stream)
            if AgentSettings.namesSameStream(reading.stream, stream) {
                latest = reading
                latestAt = .now
            }
        case .line:
            events.lineHandled()
        case .endOfInput:
            inputEnded = true
        case .agent(.error), .agent(.other), .agentGone, .tick:
            break
        }
        return event
    }

    private func isOurs(_ reading: StreamReading) -> Bool {
        AgentSettings.namesSameStream(reading.stream, stream)
    }

    // MARK: Starting

    /// Waits for the agent's `hello`, then for a result of the stream.
    mutating func start() async throws(CalibrateStop) {
        var since = ContinuousClock.now
        while true {
            switch await next() {
            case .agent(.hello):
                since = .now
            case .agent(.result(let reading)) where isOurs(reading):
                return
            case .agent(.error(let message)):
                throw .refused(message)
            case .agentGone(let why):
                throw connected ? .agentGone(why) : .unreachable(why)
            case .line(let line):
                pendingLines.append(line)
            case .tick where ContinuousClock.now - since > Self.startTimeout:
                if !connected { throw .unreachable("no answer within \(Self.startTimeout.seconds) s") }
                throw .noReadings(seen: seen.sorted())
            default:
                break
            }
        }
    }

    /// Goes on without live values (a divider needs none): a connection that comes or goes
    /// later is not mentioned again.
    mutating func goOnWithoutAgent(_ why: String) {
        lostAgent = why
    }

    // MARK: Prompts

    /// Asks `question` under the live line; the line typed. Readings keep the live line current
    /// meanwhile. With `needsAgent` false a lost connection is told and the prompt stays.
    mutating func ask(_ question: String, needsAgent: Bool = true) async throws(CalibrateStop) -> String {
        if !pendingLines.isEmpty {
            let line = pendingLines.removeFirst()
            console.say(question + line)
            return line
        }
        if inputEnded { throw .endOfInput }
        showLive()
        console.prompt(question)
        while true {
            switch await next() {
            case .line(let line):
                console.answered()
                return line
            case .endOfInput:
                console.answered(endOfInput: true)
                throw .endOfInput
            case .agent(.result(let reading)) where isOurs(reading):
                showLive()
            case .tick:
                showLive()
            case .agentGone(let why), .agent(.error(let why)):
                if needsAgent {
                    console.say("lost the connection to the agent: \(why)")
                    throw .agentGone(why)
                }
                if lostAgent == nil {
                    lostAgent = why
                    console.say("lost the connection to the agent (\(why)): no live value from here on.")
                    console.prompt(question)
                }
            default:
                break
            }
        }
    }

    /// Asks for a text (a name, a unit): nil keeps the current one (Enter). `problem` says why
    /// an answer cannot be used, and the question is asked again.
    mutating func askText(_ question: String, problem: (String) -> String?) async throws(CalibrateStop) -> String? {
        while true {
            switch PromptAnswer.parse(text: try await ask(question, needsAgent: false)) {
            case .quit: throw .quit
            case .keep: return nil
            case .text(let text):
                if let why = problem(text) { console.say("  \(why)"); continue }
                return text
            case .number(let value): return ReadableNumber.format(value)
            case .invalid(let why): console.say("  \(why)")
            }
        }
    }

    // MARK: Two points

    /// The two-point method: asks for two known values and averages `samples` readings for
    /// each; the calibration through them.
    mutating func twoPoints(samples: Int) async throws(CalibrateStop) -> Calibration {
        var capture = TwoPointCapture(samples: samples)
        while true {
            switch capture.stage {
            case .finished(let calibration):
                return calibration
            case .awaitingValue(let point):
                let which = point == 1 ? "first" : "second"
                let line = try await ask("Apply the \(which) known value, then type it in \(unit) and press Enter: ")
                switch PromptAnswer.parse(value: line, unit: unit) {
                case .quit:
                    throw .quit
                case .number(let value):
                    if capture.enter(value: value) == .sameValueAsFirst {
                        console.say("  \(ReadableNumber.format(value)) \(unit) is the first value again: apply a different value.")
                    } else {
                        console.live("  measuring point \(point): 0/\(samples) readings")
                    }
                case .invalid(let why), .text(let why):
                    console.say("  \(why)")
                case .keep:
                    break
                }
            case .measuring(let point, let value):
                let reading = try await nextReading()
                switch capture.add(pinVolts: reading.pinVolts) {
                case .progress(let taken):
                    console.live("  measuring point \(point) (\(ReadableNumber.format(value)) \(unit)): \(taken)/\(samples) readings, pin \(Self.volts(reading.pinVolts)) V")
                case .firstPoint(let measured, let spread):
                    console.say("  point 1: \(describe(measured)) (\(samples) readings, spread \(Self.volts(spread)) V)")
                case .tooClose(let first, let pin):
                    console.say("  the pin reads \(Self.volts(pin)) V, within 1 mV of the first point's \(Self.volts(first.pinVolts)) V: apply a value farther from the first.")
                case .finished(_, let measured, let spread):
                    console.say("  point 2: \(describe(measured)) (\(samples) readings, spread \(Self.volts(spread)) V)")
                    if capture.isPoorlySeparated {
                        console.say("  note: the two points are no farther apart than their readings spread: the slope is mostly noise."
                            + " Type q at the next prompt and start again with values farther apart, or steadier ones.")
                    }
                default:
                    break
                }
            }
        }
    }

    /// The next reading of the stream; typed lines wait for the next prompt (`q` stops).
    private mutating func nextReading() async throws(CalibrateStop) -> StreamReading {
        while true {
            switch await next() {
            case .agent(.result(let reading)) where isOurs(reading):
                return reading
            case .line(let line):
                if PromptAnswer.parse(text: line) == .quit { throw .quit }
                pendingLines.append(line)
            case .tick:
                if let at = latestAt, ContinuousClock.now - at > Self.silentAfter {
                    console.live(silentText(since: at))
                }
            case .agentGone(let why), .agent(.error(let why)):
                console.say("lost the connection to the agent: \(why)")
                throw .agentGone(why)
            default:
                break
            }
        }
    }

    // MARK: The live line

    /// The newest reading (pin and value now, and under ``preview``), or that the stream went
    /// silent.
    func liveText() -> String {
        guard let reading = latest, let at = latestAt else { return "  waiting for a reading of \(stream)..." }
        if ContinuousClock.now - at > Self.silentAfter { return silentText(since: at) }
        var text = "  live: pin \(Self.volts(reading.pinVolts)) V, reads \(Self.volts(reading.value)) \(reading.unit ?? "V") now"
        if let preview {
            text += ", \(Self.volts(preview.calibration.value(pinVolts: reading.pinVolts))) \(unit) \(preview.label)"
        }
        return text
    }

    private func showLive() {
        guard lostAgent == nil, latest != nil else { return }
        console.live(liveText(), inputPending: events.inputPending)
    }

    private func silentText(since at: ContinuousClock.Instant) -> String {
        "  no reading of \(stream) for \((ContinuousClock.now - at).seconds) s: is the board still sending?"
    }

    private func describe(_ point: Calibration.Point) -> String {
        "\(ReadableNumber.format(point.value)) \(unit) at pin \(FixedPoint.format(point.pinVolts, digits: 4)) V"
    }

    /// Volts as the firmware writes them: millivolt resolution.
    static func volts(_ value: Double) -> String { FixedPoint.format(value, digits: 3) }
}

extension Duration {
    /// Whole seconds, for messages.
    fileprivate var seconds: Int64 { components.seconds }
}
