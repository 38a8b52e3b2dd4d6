#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
public import ServiceLifecycle
import Synchronization
import VoltCore

/// Keeps every line each board sent, with its receive time, so a day can be replayed later
/// (`voltwatch replay`) and gives exactly the results that were scored live.
///
/// Format, one file per device and hour: `<epoch_ms><TAB><line as received>\n`, and
/// `# <epoch_ms> <event>` lines for connects, disconnects and dropped partial lines. The
/// milliseconds and bytes are exactly those handed to the device's ``DeviceStream``.
/// Over-long lines (which the framer drops without keeping their bytes) are written as a
/// 129-byte placeholder so a replay counts them as `too_long` too.
///
/// Lines are buffered in memory and written by ``run()`` at least once a second (a crash
/// loses at most a second), or at once when a buffer passes 64 KiB. Files rotate when the
/// UTC hour changes or a file passes ``Options/maxFileBytes``:
/// `<dir>/<device>-YYYYMMDD-HH.rec`, then `...-HH.1.rec`, `...-HH.2.rec`.
public final class Recorder: Service, Sendable {
    public struct Options: Sendable {
        public var directory: String
        /// Rotate after this many bytes.
        public var maxFileBytes: Int = 64 << 20
        /// Write buffered lines at least this often, milliseconds.
        public var flushIntervalMs: Int = 1_000

        public init(directory: String) { self.directory = directory }
    }

    private struct File {
        var fd: Int32
        var path: String
        var bytes: Int
        var hour: Int64
        var buffer: [UInt8] = []
        /// Lines and events in ``buffer``.
        var bufferedLines = 0
    }

    public let options: Options
    private let files = Mutex<[String: File]>([:])
    /// Each device's `settings` event text, repeated at the top of every file opened for it.
    private let settingsLines = Mutex<[String: String]>([:])
    private let written = Atomic<Int>(0)
    private let logger: Logger
    /// Placeholder payload for an over-long line: longer than the 128-byte limit, so replay
    /// counts it as `too_long`, and readable to whoever opens the file.
    static let overlongPlaceholder: [UInt8] = {
        let text = Array("<line longer than 128 bytes dropped by the framer>".utf8)
        return text + [UInt8](repeating: UInt8(ascii: "~"), count: 129 - text.count)
    }()

    public init(options: Options, logger: Logger) throws(RecorderError) {
        self.options = options
        self.logger = logger
        var info = stat()
        if stat(options.directory, &info) != 0 {
            guard mkdir(options.directory, 0o755) == 0 || errno == EEXIST else {
                throw RecorderError(path: options.directory, errno: errno)
            }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw RecorderError(path: options.directory, errno: ENOTDIR)
        }
    }

    /// Records one line exactly as it was fed to the device's stream.
    public func record(device: String, receivedAtMs: Int64, line: UnsafeBufferPointer<UInt8>) {
        append(device: device, atMs: receivedAtMs) { buffer in
            Self.appendDecimal(receivedAtMs, to: &buffer)
            buffer.append(0x09)
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
        }
    }

    /// Records a line the framer dropped as over-long.
    public func recordOverlong(device: String, receivedAtMs: Int64) {
        Self.overlongPlaceholder.withUnsafeBufferPointer { record(device: device, receivedAtMs: receivedAtMs, line: $0) }
    }

    /// Records an event line (`# <ms> <text>`); replay reports it and scores nothing.
    public func event(device: String, atMs: Int64, _ text: String) {
        append(device: device, atMs: atMs) { buffer in
            buffer.append(contentsOf: "# ".utf8)
            Self.appendDecimal(atMs, to: &buffer)
            buffer.append(0x20)
            buffer.append(contentsOf: text.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
            buffer.append(0x0A)
        }
    }

    /// Notes the settings in effect for `device` (its entries of the settings file, as
    /// `settings {"channels":{...}}`): written now when they changed, and after the header of
    /// every file opened later, so each file replays with the calibration it was scored with.
    /// nil (no entries) after entries were in effect writes empty settings.
    public func noteSettings(device: String, json: String?, atMs: Int64) {
        let text = json.map { "\(RecordingEvent.settings) \($0)" }
        let previous = settingsLines.withLock { lines in
            defer { lines[device] = text }
            return lines[device]
        }
        // A file not yet open gets them after its header when it opens.
        guard text != previous, files.withLock({ $0[device] != nil }) else { return }
        event(device: device, atMs: atMs, text ?? "\(RecordingEvent.settings) {\"channels\":{}}")
    }

    /// Writes every buffered line.
    public func flush() {
        files.withLock { files in
            for key in files.keys { write(&files[key]!) }
        }
    }

    /// Lines and events handed to `write(2)` so far: the flush acknowledgement. A line
    /// counts once its bytes reached the file, whether ``run()``'s periodic flush, a full
    /// buffer, a rotation or ``close()`` wrote it.
    public var linesWritten: Int { written.load(ordering: .acquiring) }

    /// Paths of the files written so far (the current one per device).
    public var currentFiles: [String] {
        files.withLock { $0.values.map(\.path) }.sorted()
    }

    public func run() async throws {
        defer { close() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(self.options.flushIntervalMs))
                }
            } catch {
                break
            }
            flush()
        }
    }

    /// Writes and closes every file.
    public func close() {
        files.withLock { files in
            for key in files.keys {
                write(&files[key]!)
                SystemCall.close(files[key]!.fd)
            }
            files.removeAll()
        }
    }

    // MARK: Internals

    private func append(device: String, atMs: Int64, _ body: (inout [UInt8]) -> Void) {
        files.withLock { files in
            let hour = atMs / 3_600_000
            if var file = files[device] {
                if file.hour != hour || file.bytes + file.buffer.count >= options.maxFileBytes {
                    write(&file)
                    SystemCall.close(file.fd)
                    files[device] = nil
                }
            }
            if files[device] == nil {
                guard let file = open(device: device, atMs: atMs) else { return }
                files[device] = file
            }
            body(&files[device]!.buffer)
            files[device]!.bufferedLines += 1
            if files[device]!.buffer.count >= 64 << 10 { write(&files[device]!) }
        }
    }

    private func open(device: String, atMs: Int64) -> File? {
        let base = options.directory + "/" + device + "-" + Self.hourStamp(atMs)
        var index = 0
        while true {
            let path = base + (index == 0 ? "" : ".\(index)") + ".rec"
            var info = stat()
            if stat(path, &info) == 0 && Int(info.st_size) >= options.maxFileBytes {
                index += 1
                continue
            }
            let fd = SystemCall.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                logger.error("\(RecorderError(path: path, errno: errno).description)")
                return nil
            }
            var file = File(fd: fd, path: path, bytes: stat(path, &info) == 0 ? Int(info.st_size) : 0, hour: atMs / 3_600_000)
            if file.bytes == 0 {
                file.buffer.append(contentsOf: "# \(atMs) \(RecordingEvent.header) device=\(device)\n".utf8)
            }
            if let settings = settingsLines.withLock({ $0[device] }) {
                file.buffer.append(contentsOf: "# \(atMs) \(settings)\n".utf8)
            }
            return file
        }
    }

    private func write(_ file: inout File) {
        guard !file.buffer.isEmpty else { return }
        let ok = file.buffer.withUnsafeBytes { Posix.writeAll(file.fd, $0) }
        if ok {
            written.add(file.bufferedLines, ordering: .releasing)
        } else {
            logger.error("\(RecorderError(path: file.path, errno: errno).description)")
        }
        file.bytes += file.buffer.count
        file.buffer.removeAll(keepingCapacity: true)
        file.bufferedLines = 0
    }

    /// `YYYYMMDD-HH` in UTC.
    static func hourStamp(_ ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))"
    }

    static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        if value == 0 { buffer.append(UInt8(ascii: "0")); return }
        var digits: [UInt8] = []
        var v = value < 0 ? -value : value
        while v > 0 {
            digits.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        }
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        buffer.append(contentsOf: digits.reversed())
    }
}

/// The recording directory or a file in it cannot be written.
public struct RecorderError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String {
        switch errno {
        case EACCES, EPERM: "cannot record to \(path): permission denied — choose a --record directory the service user can write"
        case ENOSPC: "cannot record to \(path): disk full — free space or rotate old recordings away"
        case ENOTDIR: "cannot record to \(path): not a directory"
        default: "cannot record to \(path): \(Posix.describe(errno))"
        }
    }
}
