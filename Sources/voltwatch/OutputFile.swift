import VoltAgent
import VoltSerial
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer over a file descriptor: replay output is millions of short lines, and one
/// `write(2)` per line would cost more than scoring them.
final class OutputFile {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Set when a write failed (disk full, closed pipe); later writes are dropped.
    private(set) var failure: String?

    static func standardOutput(capacity: Int = 1 << 20) -> OutputFile {
        OutputFile(fd: 1, path: "standard output", owns: false, capacity: capacity)
    }

    /// Creates (or truncates) `path`.
    static func create(_ path: String) throws(FileReadError) -> OutputFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        return OutputFile(fd: fd, path: path, owns: true, capacity: 1 << 20)
    }

    private init(fd: Int32, path: String, owns: Bool, capacity: Int) {
        self.fd = fd
        self.path = path
        self.ownsDescriptor = owns
        self.capacity = capacity
        buffer.reserveCapacity(capacity + 4096)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    /// Lets `body` append bytes to the buffer in place (no intermediate strings).
    func append(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        if buffer.count >= capacity { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        guard failure == nil else { return }
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let n = SystemCall.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(path): \(String(cString: strerror(errno)))"
                    return
                }
                offset += n
            }
        }
    }

    func close() {
        flush()
        if ownsDescriptor { _ = SystemCall.close(fd) }
    }
}

/// Reads a file in large chunks and hands out its lines (any length; `\n` or `\r\n`).
struct LineReader: ~Copyable {
    let path: String
    private let fd: Int32

    init(path: String) throws(FileReadError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            SystemCall.close(fd)
            throw FileReadError(path: path, errno: EISDIR)
        }
    }

    deinit { SystemCall.close(fd) }

    /// The file's size in bytes, when it is a regular file (for progress).
    var size: Int? {
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Calls `body` with each line and its 1-based number, and the bytes read so far.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> Void) throws(FileReadError) {
        let chunkSize = 1 << 20
        var carry: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var lineNumber = 0
        var consumed = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, errno: errno)
            }
            if n == 0 { break }
            consumed += n
            chunk.withUnsafeBufferPointer { all in
                let bytes = UnsafeBufferPointer(rebasing: all[0..<n])
                var start = 0
                var i = 0
                while i < n {
                    if bytes[i] == 0x0A {
                        lineNumber += 1
                        if carry.isEmpty {
                            body(UnsafeBufferPointer(rebasing: bytes[start..<i]), lineNumber, consumed)
                        } else {
                            carry.append(contentsOf: bytes[start..<i])
                            carry.withUnsafeBufferPointer { body($0, lineNumber, consumed) }
                            carry.removeAll(keepingCapacity: true)
                        }
                        start = i + 1
                    }
                    i += 1
                }
                if start < n { carry.append(contentsOf: bytes[start..<n]) }
            }
        }
        if !carry.isEmpty {
            lineNumber += 1
            carry.withUnsafeBufferPointer { body($0, lineNumber, consumed) }
        }
    }
}
