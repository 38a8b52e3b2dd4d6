#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims
import Logging
import Testing
import Synchronization
import VoltCore
@testable import VoltSerial

/// Collects every event a reader publishes, for tests to wait on.
final class CollectingSink: AgentEventSink {
    private let events = Mutex<[AgentEvent]>([])

    func publish(_ event: AgentEvent) { events.withLock { $0.append(event) } }

    var all: [AgentEvent] { events.withLock { $0 } }

    var results: [ScoredResult] {
        all.compactMap { if case .result(_, let r) = $0 { r } else { nil } }
    }

    var statuses: [DeviceStatus] {
        all.compactMap { if case .deviceStatus(let s) = $0 { s } else { nil } }
    }

    func count(_ state: DeviceState) -> Int { statuses.filter { $0.state == state }.count }

    var lastCounters: StreamCounters? {
        all.reversed().lazy.compactMap { if case .counters(_, let c) = $0 { c } else { nil } }.first
    }

    /// Polls `condition` every 2 ms until it holds or `timeoutMs` passes.
    func wait(timeoutMs: Int = 5_000, _ condition: (CollectingSink) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition(self)
    }
}

/// A pty the test plays the board on: write the master, the reader opens `path`.
final class TestPty: @unchecked Sendable {
    let master: Int32
    let path: String
    private var slave: Int32

    init() {
        var master: Int32 = -1
        var slave: Int32 = -1
        precondition(openpty(&master, &slave, nil, nil, nil) == 0)
        _ = vw_make_raw(slave, 115_200)
        self.master = master
        self.slave = slave
        self.path = String(cString: ttyname(slave))
    }

    /// Closes the test's own slave descriptor (the reader keeps its own).
    func closeSlave() {
        if slave >= 0 { SystemCall.close(slave); slave = -1 }
    }

    func write(_ text: String) {
        var copy = text
        copy.withUTF8 { _ = SystemCall.write(master, $0.baseAddress, $0.count) }
    }

    func writeBytewise(_ text: String, pauseMicroseconds: UInt32 = 300) {
        for byte in text.utf8 {
            var b = byte
            _ = SystemCall.write(master, &b, 1)
            usleep(pauseMicroseconds)
        }
    }

    func close() {
        closeSlave()
        SystemCall.close(master)
    }
}

func frame(_ seq: Int, volts: Double = 2.5) -> String {
    FrameParser.sentence("VOLT,\(seq),\(1000 + seq * 100),\(Int(volts / 5 * 1023)),\(FixedPoint.format(volts, digits: 3))") + "\r\n"
}

let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

func fastReaderOptions() -> ReaderOptions {
    var options = ReaderOptions(config: ModelConfig())
    options.resetDelayMs = 0
    options.reconnect = ReconnectPolicy(initialDelayMs: 5, maxDelayMs: 50)
    options.countersIntervalMs = 50
    return options
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/voltserial-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
    return String(cString: path)
}

/// Suites that open ptys run one at a time: the replug test counts the process's terminal
/// descriptors, which another pty test running beside it would change. No suite outside this
/// one opens a terminal.
@Suite(.serialized) enum PtyTests {}

/// A bound `AF_UNIX` datagram socket standing in for systemd's notify socket. A name starting
/// with `@` is abstract.
final class DatagramReceiver: @unchecked Sendable {
    let fd: Int32
    let name: String

    init(_ name: String) throws {
        self.name = name
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } else { unlink(name) }
        withUnsafeMutableBytes(of: &addr.sun_path) { path in
            for (i, byte) in bytes.enumerated() { path[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        let status = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard status == 0 else { throw ReceiverError.bind(errno) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    enum ReceiverError: Error { case bind(Int32) }

    /// The next datagram as text, or nil after two seconds.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }

    func close() {
        SystemCall.close(fd)
        if !name.hasPrefix("@") { unlink(name) }
    }
}
