/// Where `$NOTIFY_SOCKET` points: a filesystem socket (`/run/systemd/notify`) or an abstract
/// one (`@/org/freedesktop/systemd1/notify/...`, sent as a leading NUL byte). Parsed apart
/// from the socket so each form, and each way the variable can be wrong, is tested.
public struct NotifySocketAddress: Sendable, Equatable {
    /// The bytes of `sun_path`: for an abstract address the leading NUL and the name, with no
    /// terminator (the length says where it ends); for a path, the path.
    public var pathBytes: [UInt8]
    public var isAbstract: Bool

    /// `sun_path` holds 108 bytes on Linux.
    public static let maxPathBytes = 108

    /// nil when the variable is unset or empty (not under systemd, or `NotifyAccess=none`):
    /// then the agent does nothing, as `sd_notify(3)` does.
    public static func parse(_ value: String?) throws(NotifySocketError) -> NotifySocketAddress? {
        guard let value, !value.isEmpty else { return nil }
        var bytes = Array(value.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract {
            bytes[0] = 0
        } else if bytes.first != UInt8(ascii: "/") {
            // systemd ≥ 254 also knows `vsock:`; a VM guest agent is not our case.
            throw NotifySocketError("NOTIFY_SOCKET=\(value) is neither an absolute path nor an abstract socket (@name)")
        }
        if bytes.count > maxPathBytes - (abstract ? 0 : 1) {
            throw NotifySocketError("NOTIFY_SOCKET=\(value) is longer than a unix socket address allows")
        }
        return NotifySocketAddress(pathBytes: bytes, isAbstract: abstract)
    }
}

/// `$NOTIFY_SOCKET` is unusable; says what is wrong with it.
public struct NotifySocketError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
