/// What a device's stream has seen so far: the health figures of `/api/status` and `/metrics`.
public struct StreamCounters: Sendable, Equatable, Codable {
    /// Lines accepted as samples (`$VOLT` or legacy numbers).
    public var frames = 0
    /// `$HELLO` lines accepted.
    public var hellos = 0
    /// Lines rejected, by reason.
    public var invalid = RejectionCounts()
    /// Frames missing according to `seq` jumps.
    public var lost = 0
    /// Samples scored as anomalies.
    public var anomalies = 0
    /// Receive time of the last accepted line, epoch milliseconds.
    public var lastReceivedMs: Int64?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case frames, hellos, invalid, lost, anomalies
        case lastReceivedMs = "last_received_ms"
    }
}
