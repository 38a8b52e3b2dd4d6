public import VoltSerial

/// Serial-side tuning that `voltwatch run` passes beside ``AgentOptions``: timings tests
/// shorten, and the in-process fake device. Kept apart from ``AgentOptions`` so the serial
/// and server halves can grow their options independently.
public struct SerialAgentOptions: Sendable {
    /// Silence expected after opening a board that resets, milliseconds; nil: 2000 for real
    /// ports, 0 for the in-process fake (a pty does not reset).
    public var resetDelayMs: Int?
    /// Reopen a port silent for this many sample periods.
    public var watchdogPeriods = 50
    /// Backoff between reconnect attempts.
    public var reconnect = ReconnectPolicy()
    /// Re-enumerate this often where udev events do not arrive, milliseconds.
    public var pollIntervalMs = 2_000
    /// The in-process fake device for `run --fake` (its scenario comes from
    /// ``AgentOptions/fakeScenario``); seed, period, speed and unplug simulation from here.
    public var fake = FakeDevice.Options()

    public init() {}
}
