public import VoltCore

/// How the serial side reads boards: `voltwatch run` fills it from ``AgentOptions``-level
/// settings; tests shorten the timings.
public struct ReaderOptions: Sendable {
    /// The scorer configuration every device stream starts with.
    public var config: ModelConfig
    /// Names, units and calibrations of the streams (the settings file).
    public var settings: AgentSettings = .empty
    /// The first alarm episode id of each stream (history's next ids), so ids stay unique
    /// across restarts; a stream not named starts at 1.
    public var firstEpisodeIDs: [String: UInt64] = [:]
    /// Baud rate for real ports.
    public var baudRate: Int = 115_200
    /// How long after opening a board that resets (an Uno resets when the port opens) to
    /// expect silence before its `$HELLO`, milliseconds. Lines before a `$HELLO` in this
    /// window are leftovers and are discarded; then the input is flushed.
    /// 0 skips it (ptys: the fake device does not reset).
    public var resetDelayMs: Int = 2_000
    /// Reopen a port that stays silent this many sample periods (the period from `$HELLO`,
    /// else the configuration's sample rate).
    public var watchdogPeriods: Int = 50
    /// Backoff between attempts.
    public var reconnect = ReconnectPolicy()
    /// How often streams publish `.counters`, milliseconds.
    public var countersIntervalMs: Int = 1_000
    /// Largest line kept, bytes.
    public var maxLineLength = LineFramer.defaultMaxLineLength

    public init(config: ModelConfig) { self.config = config }
}
