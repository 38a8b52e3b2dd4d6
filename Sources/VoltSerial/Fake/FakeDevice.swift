#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
public import ServiceLifecycle
import Synchronization
public import VoltCore

/// A fake Arduino behind a pty: `$HELLO`, then a `$VOLT` (or, with several channels, a
/// `$VOLTS`) frame every period, from a seeded
/// scenario or a recording. It can be unplugged and plugged back (the pty is closed and a new
/// one made behind the same link), and clients steer it through ``SimulationControl``.
public final class FakeDevice: Service, SimulationControl {
    public struct Options: Sendable {
        public var scenario: FakeScenario = .normal
        public var seed: UInt64 = 1
        /// Time between frames at speed 1, milliseconds (the firmware's 100 ms).
        public var periodMs = 100
        /// Channels the scenario board samples (A0 up); more than 1 sends `$VOLTS` frames.
        public var channels = 1
        /// Multiplies real time (2: twice as fast).
        public var speed = 1.0
        /// A stable symlink to the current pty, replaced on every replug.
        public var link: String?
        /// Play this file instead of a scenario.
        public var replay: ReplayFeed?
        /// Start the file again at its end.
        public var loop = false
        /// Simulate an unplug this often, milliseconds (nil: never).
        public var unplugEveryMs: Int?
        /// How long the board stays unplugged, milliseconds.
        public var unplugForMs = 2_000
        /// Start sending at once (false: wait for `start_simulation`).
        public var autostart = true

        public init() {}
    }

    private struct State {
        var pty: Pty?
        var running: Bool
        var speed: Double
        var generator: ScenarioGenerator
        var replayIndex = 0
        var replayLoops: Int64 = 0
        /// Monotonic ms when the replay started (nil: not yet), adjusted for pauses.
        var replayStart: Int64?
        var unplugs = 0
        /// Whether the agent had the pty open at the last step.
        var attached = false
    }

    public let options: Options
    private let state: Mutex<State>
    private let logger: Logger

    public init(options: Options, logger: Logger) throws(FakeDeviceError) {
        self.options = options
        self.logger = logger
        let pty = try Pty()
        self.state = Mutex(State(
            pty: pty, running: options.autostart, speed: options.speed,
            generator: ScenarioGenerator(scenario: options.scenario, seed: options.seed, periodMs: options.periodMs,
                                         channels: options.channels)))
        try updateLink()
    }

    /// The pty the agent should open: the link when there is one, else the pty itself.
    public var devicePath: String { options.link ?? (ptyPath ?? "") }

    /// The current pty's path (nil while unplugged).
    public var ptyPath: String? { state.withLock { $0.pty?.path } }

    /// How many times the device was unplugged.
    public var unplugCount: Int { state.withLock { $0.unplugs } }

    /// Closes the pty (the agent's reads fail with a hang-up) and removes the link.
    public func unplug() {
        state.withLock { state in
            guard state.pty != nil else { return }
            state.pty = nil
            state.unplugs += 1
        }
        if let link = options.link { unlink(link) }
        logger.info("fake device unplugged")
    }

    /// Makes a new pty and points the link at it; the board boots again (`$HELLO`, seq 0).
    public func replug() throws(FakeDeviceError) {
        let pty = try Pty()
        state.withLock { state in
            state.pty = pty
            state.generator.reboot()
        }
        try updateLink()
        logger.info("fake device plugged in", metadata: ["path": "\(ptyPath ?? "-")"])
    }

    private func updateLink() throws(FakeDeviceError) {
        guard let link = options.link, let target = ptyPath else { return }
        let temporary = link + ".tmp-\(getpid())"
        unlink(temporary)
        guard symlink(target, temporary) == 0, rename(temporary, link) == 0 else {
            let reason = Posix.describe(errno)
            unlink(temporary)
            throw FakeDeviceError(description: "cannot make the link \(link) -> \(target): \(reason) — choose a --link path in a writable directory")
        }
    }

    // MARK: SimulationControl

    public func start(speed: Double?, scenario: String?) async throws {
        let chosen: FakeScenario?
        if let scenario {
            guard let parsed = FakeScenario(rawValue: scenario) else {
                throw FakeDeviceError(description: "unknown scenario '\(scenario)'; choose one of \(FakeScenario.names)")
            }
            chosen = parsed
        } else {
            chosen = nil
        }
        if let speed, !(speed > 0 && speed.isFinite && speed <= 1_000) {
            throw FakeDeviceError(description: "speed must be between 0 and 1000 (1 is real time); got \(speed)")
        }
        state.withLock { state in
            if let chosen, chosen != state.generator.scenario { state.generator.select(chosen) }
            if let speed { state.speed = speed }
            state.running = true
            state.replayStart = nil
        }
    }

    public func stop() async throws {
        state.withLock { $0.running = false }
    }

    public func reset() async throws {
        state.withLock { state in
            state.generator.reset()
            state.replayIndex = 0
            state.replayLoops = 0
            state.replayStart = nil
        }
    }

    // MARK: Service

    public func run() async throws {
        defer { if let link = options.link { unlink(link) } }
        var nextUnplug = options.unplugEveryMs.map { MonotonicTime.milliseconds() + Int64($0) }
        var replugAt: Int64?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = MonotonicTime.milliseconds()
            if let at = replugAt, now >= at {
                do { try replug() } catch { logger.error("\(error.description)") }
                replugAt = nil
                nextUnplug = options.unplugEveryMs.map { now + Int64($0) }
            } else if let at = nextUnplug, now >= at, replugAt == nil {
                unplug()
                replugAt = now + Int64(options.unplugForMs)
                nextUnplug = nil
            }
            let waitMs = step(now: now)
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .microseconds(Int64(waitMs * 1000)))
                }
            } catch {
                return
            }
        }
    }

    /// Sends what is due and returns how long to sleep, milliseconds.
    func step(now: Int64) -> Double {
        state.withLock { state in
            let period = Double(options.periodMs) / state.speed
            guard let pty = state.pty else { return min(period, 50) }
            let attached = pty.attached
            defer { state.attached = attached }
            // Nobody listening: a board without a host. Opening the port boots it ($HELLO).
            guard attached else { return min(period, 20) }
            if !state.attached { state.generator.reboot() }
            guard state.running else { return min(period, 50) }
            guard let feed = options.replay else {
                for line in state.generator.next() { _ = pty.write(Array(line.utf8) + [0x0D, 0x0A]) }
                return period
            }
            // Replay: send every item whose time has come, then sleep until the next one.
            if state.replayStart == nil { state.replayStart = now - Int64(Double(feed.items[min(state.replayIndex, feed.items.count - 1)].offsetMs) / state.speed) }
            let elapsed = Double(now - state.replayStart!) * state.speed
            while true {
                if state.replayIndex >= feed.items.count {
                    guard options.loop else { return 100 }
                    state.replayIndex = 0
                    state.replayLoops += 1
                }
                let item = feed.items[state.replayIndex]
                let due = Double(item.offsetMs + state.replayLoops * feed.durationMs)
                if due > elapsed { return max(1, (due - elapsed) / state.speed) }
                _ = pty.write(item.line + [0x0D, 0x0A])
                state.replayIndex += 1
            }
        }
    }
}
