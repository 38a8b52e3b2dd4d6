#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small POSIX helpers shared by the serial edge.
enum Posix {
    /// `strerror(code)` as a Swift string.
    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Wall-clock time in whole milliseconds since the epoch: the receive time of every line.
    /// Whole milliseconds because that is what the recorder stores, and a replay of the
    /// recording must score exactly what was scored live.
    static func epochMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// The target of a symlink, or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The canonical path (symlinks resolved), or nil when it does not exist.
    /// Resolves into a caller buffer rather than `realpath(path, NULL)`: umockdev's wrapper
    /// (the discovery tests' fake /dev) returns memory `free` must not release.
    static func realPath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return buffer.withUnsafeMutableBufferPointer { raw in
            realpath(path, raw.baseAddress).map { String(cString: $0) }
        }
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Reads a small text file (e.g. `/proc/PID/comm`), trimmed; nil when unreadable.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        guard n >= 0 else { return nil }
        var text = String(decoding: buffer[0..<n], as: UTF8.self)
        while let last = text.last, last == "\n" || last == " " || last == "\0" { text.removeLast() }
        return text
    }

    /// Writes all of `bytes`, retrying on EINTR. Returns false on any other error.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Sleeps on the calling thread (only for dedicated threads, never the cooperative pool).
    static func sleep(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// The descriptors this process has open: tests use it to prove reconnects leak nothing.
public enum OpenDescriptors {
    /// How many are open on a terminal (`/dev/pts/N` or `/dev/ptmx`): the serial port and the
    /// fake device's end of it.
    ///
    /// A leak test counts these rather than every descriptor because tests of other layers run
    /// in the same process at the same time and open and close sockets and event descriptors
    /// of their own, which would move a total either way.
    public static func terminalCount() -> Int {
        Posix.listDirectory("/proc/self/fd").reduce(0) { count, name in
            guard let target = Posix.readLink("/proc/self/fd/" + name) else { return count }
            return target.hasPrefix("/dev/pts/") || target == "/dev/ptmx" ? count + 1 : count
        }
    }
}
