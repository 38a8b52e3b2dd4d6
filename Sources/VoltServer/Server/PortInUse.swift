#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The server could not listen because another program has the port: say which port, who holds
/// it when the kernel lets us see, and how to choose another. (The Flask backend voltwatch
/// replaces listens on 5000 too.)
public struct PortInUse: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// `flask (pid 1234)`, when it could be found.
    public let holder: String?

    public var description: String {
        let who = holder.map { " by \($0)" } ?? ""
        return "port \(port) on \(host) is already in use\(who): stop that program, or serve on another port with " +
            "--port N (scripts/run.sh --port N; under systemd, `systemctl edit voltwatch` and set VOLTWATCH_OPTS=\"--port N\")"
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
        self.holder = Self.findHolder(port: port)
    }

    /// The process with a listening TCP socket on `port`: its inode from /proc/net/tcp{,6},
    /// then the process whose descriptors include that socket. nil when not visible (another
    /// user's process, without root).
    static func findHolder(port: Int) -> String? {
        var inodes = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readText(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is field 9.
                guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                      Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        guard !inodes.isEmpty, let proc = opendir("/proc") else { return nil }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int(pid) != nil, let fds = opendir("/proc/\(pid)/fd") else { continue }
            defer { closedir(fds) }
            while let fd = readdir(fds) {
                let name = withUnsafeBytes(of: fd.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                var buffer = [CChar](repeating: 0, count: 64)
                let n = readlink("/proc/\(pid)/fd/\(name)", &buffer, buffer.count - 1)
                guard n > 0 else { continue }
                let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if inodes.contains(target) {
                    let command = readText("/proc/\(pid)/comm")?.split(separator: "\n").first.map(String.init) ?? "a process"
                    return "\(command) (pid \(pid))"
                }
            }
        }
        return nil
    }

    private static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[..<n]
            if out.count > 4 << 20 { break }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
