#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// The kernel socket behind an upgraded client channel, duplicated so its event loop can hand a
/// broadcast to the kernel in one `send(2)`, without NIO's write path.
///
/// Why: at a thousand clients the fan-out of one result is a thousand writes, and NIO's path
/// per write (pipeline, pending-writes bookkeeping, flush, several cold objects per channel)
/// cost about as much CPU as the kernel's own send. A duplicated descriptor is one integer per
/// client; the fan-out becomes a loop of `send` calls, as a C server would write it.
///
/// NIO does not expose a channel's descriptor, so ``duplicate(local:remote:)`` finds it by its
/// address pair (`getsockname`/`getpeername`, unique for an accepted TCP connection) and keeps
/// its own descriptor with `dup`. Holding a duplicate is what makes writing from outside NIO
/// safe: when NIO closes its descriptor the socket stays alive until ``close()``, so a number
/// reused by a new connection is never written to by mistake. NIO still owns reading, closing,
/// and every byte a direct send cannot take (see ``FrameWriter``).
///
/// Not thread-safe by itself: it lives inside its connection's ``ExpressLane`` and is used only
/// under the lane's lock, from the event loop or the publisher (hence `@unchecked Sendable`).
final class ChannelSocket: @unchecked Sendable {
    /// What one direct send did.
    enum SendOutcome: Equatable {
        /// Every byte went.
        case sent
        /// The kernel took this many bytes (possibly 0: its buffer is full); the rest must wait.
        case partial(Int)
        /// The socket failed (reset, closed): leave the frame to NIO, which reports the error.
        case failed(Int32)
    }

    let descriptor: Int32
    /// NIO's own descriptor for the same socket, claimed while this one lives.
    private let original: Int32
    private var closed = false

    private init(descriptor: Int32, original: Int32) {
        self.descriptor = descriptor
        self.original = original
    }

    /// The duplicated socket whose address pair is `local`/`remote`, or nil when there is none
    /// (not a TCP socket, not Linux, no descriptor left): the connection then writes through NIO.
    static func duplicate(local: SocketAddress?, remote: SocketAddress?) -> ChannelSocket? {
        #if os(Linux)
        guard let local, let remote, let wanted = AddressPair(local: local, remote: remote) else { return nil }
        // Fast scan first: skip descriptors that already belong to a duplicated connection, and
        // stop a little above the highest of them (the kernel hands out the lowest free number,
        // so a new connection's is rarely far above). A number can be claimed in error for a
        // moment (NIO closed it, a new connection got it, its old owner has not released it
        // yet), so a miss is retried over every number the process may hold.
        guard let original = find(wanted, fast: true) ?? find(wanted, fast: false) else {
            return nil
        }
        let copy = fcntl(original, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        // The scan and the dup are not atomic: make sure the copy is still the same connection.
        guard AddressPair(descriptor: copy) == wanted else {
            Glibc.close(copy)
            return nil
        }
        claims.withLock {
            $0[original, default: 0] += 1
            $0[copy, default: 0] += 1
        }
        return ChannelSocket(descriptor: copy, original: original)
        #else
        return nil
        #endif
    }

    /// Sends the readable bytes of `frame` without blocking.
    func send(_ frame: ByteBuffer) -> SendOutcome {
        #if os(Linux)
        let count = frame.readableBytes
        let sent = frame.withUnsafeReadableBytes { SendBatch.sendOne(descriptor, $0.baseAddress, count) }
        if sent == count { return .sent }
        if sent >= 0 { return .partial(sent) }
        switch Int32(-sent) {
        case EAGAIN, EWOULDBLOCK, ENOBUFS: return .partial(0)
        case let code: return .failed(code)
        }
        #else
        return .failed(ENOTSUP)
        #endif
    }

    /// Releases the duplicate; the connection's socket closes once NIO has closed its own.
    /// Safe to call more than once.
    func close() {
        guard !closed else { return }
        closed = true
        #if os(Linux)
        Self.claims.withLock {
            Self.release(original, in: &$0)
            Self.release(descriptor, in: &$0)
        }
        Glibc.close(descriptor)
        #endif
    }

    #if os(Linux)
    /// Descriptor numbers that belong to live duplicated connections (NIO's and ours), counted
    /// because a reused number can be claimed twice for a moment.
    private static let claims = Mutex<[Int32: Int]>([:])

    private static let fastScanSlack: Int32 = 512

    private static func release(_ number: Int32, in claims: inout [Int32: Int]) {
        guard let count = claims[number] else { return }
        claims[number] = count > 1 ? count - 1 : nil
    }

    private static func find(_ wanted: AddressPair, fast: Bool) -> Int32? {
        let claimed = fast ? claims.withLock { $0 } : [:]
        let softLimit = Int32(clamping: min(sysconf(Int32(_SC_OPEN_MAX)), 1 << 20))
        let end = fast ? min(softLimit, (claimed.keys.max() ?? 0) + fastScanSlack)
            : min(softLimit, descriptorTableSize() ?? softLimit)
        for number in Int32(0)..<end where claimed[number] == nil {
            if AddressPair(descriptor: number) == wanted { return number }
        }
        return nil
    }

    /// The size of the process's descriptor table (`FDSize` in /proc/self/status): every open
    /// number is below it, and the kernel grows it only as far as the highest number used
    /// needs. A full scan stops there rather than at the soft limit, which hosts and
    /// containers often set to a million: a client that connects and closes at once makes
    /// the scan miss, and must not cost the loop a million system calls. Nil where unreadable.
    static func descriptorTableSize() -> Int32? {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("FDSize:") }),
              let size = Int32(line.dropFirst("FDSize:".count).filter { !$0.isWhitespace })
        else { return nil }
        return size
    }
    #endif
}

/// An accepted connection's identity as the kernel reports it: both socket addresses, as raw
/// bytes (family, port and address; IPv6 flow labels left out), compared without caring how
/// each side spells them.
struct AddressPair: Equatable {
    let local: [UInt8]
    let remote: [UInt8]

    init?(local: SocketAddress, remote: SocketAddress) {
        guard let local = local.withSockAddr({ Self.identity($0, length: $1) }),
              let remote = remote.withSockAddr({ Self.identity($0, length: $1) })
        else { return nil }
        self.local = local
        self.remote = remote
    }

    #if os(Linux)
    /// The pair of `descriptor`, or nil when it is not a connected IP socket.
    init?(descriptor: Int32) {
        guard let remote = Self.read(descriptor, getpeername), let local = Self.read(descriptor, getsockname) else {
            return nil
        }
        self.local = local
        self.remote = remote
    }

    private static func read(
        _ descriptor: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> [UInt8]? {
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { raw -> [UInt8]? in
            var length = socklen_t(raw.count)
            let address = raw.baseAddress!.bindMemory(to: sockaddr.self, capacity: 1)
            guard call(descriptor, address, &length) == 0 else { return nil }
            return identity(address, length: Int(length))
        }
    }
    #endif

    /// Family, port and address bytes of an IPv4 (`sockaddr_in`) or IPv6 (`sockaddr_in6`)
    /// address; nil for any other family. Layouts are Linux's: family (2 bytes), port (2), then
    /// the IPv4 address (4), or the IPv6 flow label (4, skipped), address (16) and scope (4).
    static func identity(_ address: UnsafePointer<sockaddr>, length: Int) -> [UInt8]? {
        let bytes = UnsafeRawBufferPointer(start: address, count: length)
        guard length >= 2 else { return nil }
        let family = Int32(bytes.load(as: sa_family_t.self))
        if family == AF_INET, length >= 8 {
            return Array(bytes[0..<8])
        }
        if family == AF_INET6, length >= 28 {
            return Array(bytes[0..<4]) + Array(bytes[8..<28])
        }
        return nil
    }
}
