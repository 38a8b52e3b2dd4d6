/// How long to wait between attempts to reach a board.
public struct ReconnectPolicy: Sendable, Equatable {
    /// First wait after a lost connection or a failed open, milliseconds.
    public var initialDelayMs: Int
    /// Longest wait, milliseconds: a board plugged back in is found within this.
    public var maxDelayMs: Int
    /// Each failed attempt multiplies the wait by this.
    public var multiplier: Double

    public init(initialDelayMs: Int = 250, maxDelayMs: Int = 5_000, multiplier: Double = 2) {
        precondition(initialDelayMs > 0, "a zero backoff would busy-loop")
        self.initialDelayMs = initialDelayMs
        self.maxDelayMs = max(initialDelayMs, maxDelayMs)
        self.multiplier = max(1, multiplier)
    }

    /// The wait before attempt `failures + 1`, milliseconds.
    public func delay(afterFailures failures: Int) -> Int {
        var delay = Double(initialDelayMs)
        for _ in 1..<max(1, failures) {
            delay *= multiplier
            if delay >= Double(maxDelayMs) { return maxDelayMs }
        }
        return min(maxDelayMs, Int(delay))
    }
}

/// The connection life of one device as a pure state machine: each event returns the action
/// the driver (``DeviceSession``) performs next. No clocks, no I/O, so every path —
/// unplug, failed open, a board that comes and goes — is tested without a device.
public struct ReconnectMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case idle
        /// Discovery does not see the device: wait for it to appear (no timer, no polling).
        case waitingForDevice
        case opening
        /// The port is open; `healthy` once data arrived (which resets the backoff).
        case open(healthy: Bool)
        /// Waiting before attempt number `failures + 1`.
        case backingOff(failures: Int)
    }

    public enum Action: Sendable, Equatable {
        /// Open the port now.
        case open
        /// Read until the connection ends.
        case read
        /// Sleep until discovery reports a change.
        case waitForDevice
        /// Sleep this many milliseconds, then call ``timerFired(devicePresent:)``.
        case retry(afterMs: Int)
    }

    public let policy: ReconnectPolicy
    public private(set) var state: State = .idle
    /// Consecutive attempts that did not lead to data.
    public private(set) var failures = 0
    /// Successful opens, counting the first: reconnects are `connections - 1`.
    public private(set) var connections = 0

    public init(policy: ReconnectPolicy = ReconnectPolicy()) { self.policy = policy }

    public mutating func start(devicePresent: Bool) -> Action {
        decide(devicePresent: devicePresent)
    }

    public mutating func opened() -> Action {
        connections += 1
        state = .open(healthy: false)
        return .read
    }

    /// A line arrived: the board works, so the next loss retries quickly again.
    public mutating func dataReceived() {
        guard case .open(healthy: false) = state else { return }
        state = .open(healthy: true)
        failures = 0
    }

    /// Opening failed. Non-retryable errors (bad baud rate) still retry, at the slowest pace,
    /// so a fixed configuration or firmware is picked up without a restart.
    public mutating func openFailed(retryable: Bool, devicePresent: Bool) -> Action {
        failures += 1
        guard devicePresent else { return waitForDevice() }
        let delay = retryable ? policy.delay(afterFailures: failures) : policy.maxDelayMs
        state = .backingOff(failures: failures)
        return .retry(afterMs: delay)
    }

    /// The open port hung up, failed or went silent past the watchdog.
    public mutating func connectionLost(devicePresent: Bool) -> Action {
        if case .open(healthy: false) = state { failures += 1 } else { failures = 1 }
        guard devicePresent else { return waitForDevice() }
        state = .backingOff(failures: failures)
        return .retry(afterMs: policy.delay(afterFailures: failures))
    }

    /// The backoff elapsed, or discovery reported a change while waiting for the device.
    public mutating func timerFired(devicePresent: Bool) -> Action {
        decide(devicePresent: devicePresent)
    }

    private mutating func decide(devicePresent: Bool) -> Action {
        guard devicePresent else { return waitForDevice() }
        state = .opening
        return .open
    }

    private mutating func waitForDevice() -> Action {
        state = .waitingForDevice
        return .waitForDevice
    }
}
