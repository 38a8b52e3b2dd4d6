/// One sd_notify datagram: newline-separated `KEY=VALUE` assignments, as `sd_notify(3)`
/// describes. Pure, so the exact bytes systemd receives are tested without a socket.
///
/// Lives in VoltSerial (not the composition root) only so its tests sit beside the serial
/// tests; nothing here depends on the serial edge.
public struct NotifyMessage: Sendable, Equatable, CustomStringConvertible {
    /// The assignments systemd acts on.
    public enum Field: Sendable, Equatable {
        /// Start-up finished (configuration loaded, server listening), or a reload finished.
        case ready
        /// A reload began; systemd ≥ 253 wants ``monotonicNow`` beside it.
        case reloading
        /// `CLOCK_MONOTONIC` when the reload began, microseconds (`MONOTONIC_USEC=`).
        case monotonicNow(microseconds: UInt64)
        /// Graceful shutdown began.
        case stopping
        /// Keep-alive for `WatchdogSec=`: the working loops are alive.
        case watchdog
        /// One line for `systemctl status`.
        case status(String)
        /// The main process id, for completeness when the sender is not the forked child.
        case mainPID(Int32)
    }

    public var fields: [Field]

    public init(_ fields: [Field]) { self.fields = fields }

    /// `READY=1\nSTATUS=...`: the payload of the datagram.
    public var description: String {
        fields.map(Self.assignment).joined(separator: "\n")
    }

    static func assignment(_ field: Field) -> String {
        switch field {
        case .ready: "READY=1"
        case .reloading: "RELOADING=1"
        case .monotonicNow(let usec): "MONOTONIC_USEC=\(usec)"
        case .stopping: "STOPPING=1"
        case .watchdog: "WATCHDOG=1"
        case .status(let text): "STATUS=" + Self.singleLine(text)
        case .mainPID(let pid): "MAINPID=\(pid)"
        }
    }

    /// A status is one assignment: a newline inside would start a new (bogus) assignment.
    static func singleLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
