#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Sends sd_notify datagrams to systemd: one `AF_UNIX` `SOCK_DGRAM` datagram per message to
/// `$NOTIFY_SOCKET`, which is the whole protocol (`sd_notify(3)`); implemented here rather
/// than linking libsystemd for one `sendto`.
public final class NotifySocket: Sendable {
    public let address: NotifySocketAddress
    private let fd: Int32

    /// Opens a socket for `address`. Fails only when the process cannot create a socket.
    public init(address: NotifySocketAddress) throws(NotifySocketError) {
        let fd = socket(AF_UNIX, SystemCall.datagramCloseOnExec, 0)
        guard fd >= 0 else { throw NotifySocketError("cannot create the sd_notify socket: \(Posix.describe(errno))") }
        self.fd = fd
        self.address = address
    }

    deinit { close(fd) }

    /// The socket `$NOTIFY_SOCKET` names, or nil when it is unset (not started by systemd).
    public static func fromEnvironment() throws(NotifySocketError) -> NotifySocket? {
        let value = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        guard let address = try NotifySocketAddress.parse(value) else { return nil }
        return try NotifySocket(address: address)
    }

    /// Sends one message. Returns the error text when systemd's socket refused it (systemd
    /// gone, wrong path); the caller logs it; the agent never fails because of it.
    @discardableResult
    public func send(_ message: NotifyMessage) -> String? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let count = address.pathBytes.count
        withUnsafeMutableBytes(of: &addr.sun_path) { path in
            for (i, byte) in address.pathBytes.enumerated() { path[i] = byte }
        }
        // Abstract names are exactly `count` bytes long; a path is NUL-terminated (zeroed).
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(pathOffset + count + (address.isAbstract ? 0 : 1))
        var text = message.description
        let sent = text.withUTF8 { payload in
            withUnsafePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        return sent < 0 ? "sd_notify to \(Self.display(address)) failed: \(Posix.describe(errno))" : nil
    }

    static func display(_ address: NotifySocketAddress) -> String {
        let bytes = address.isAbstract ? [UInt8(ascii: "@")] + address.pathBytes.dropFirst() : address.pathBytes
        return String(decoding: bytes, as: UTF8.self)
    }
}
