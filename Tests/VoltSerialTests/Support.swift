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
    private let changes = ChangeSignal()

    func publish(_ event: AgentEvent) {
        events.withLock { $0.append(event) }
        changes.signal()
    }

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

    /// Waits until `condition` holds, checking it again after every event published; false
    /// when `timeoutMs` passes first. The timeout only bounds a failing test: a passing one
    /// returns as soon as the event it waits for arrives.
    func wait(timeoutMs: Int = testTimeoutMs, _ condition: (CollectingSink) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while true {
            let seen = changes.version
            if condition(self) { return true }
            if ContinuousClock.now >= deadline { return false }
            await changes.wait(after: seen, until: deadline)
        }
    }
}

/// How long a test waits for an event before it fails. Generous, because it is only ever
/// reached by a failing test, and a loaded CI machine must not turn a slow pass into a failure.
let testTimeoutMs = 20_000

/// Counts changes and wakes whoever waits for the next one, so tests wait for events rather
/// than sleep and look.
final class ChangeSignal: Sendable {
    private struct State {
        var version = 0
        var nextToken = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    var version: Int { state.withLock { $0.version } }

    func signal() {
        let waiters = state.withLock { state in
            state.version += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``version`` has moved past `seen`, or at `deadline`.
    func wait(after seen: Int, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.change(after: seen) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    private func change(after seen: Int) async {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Cancellation sets the flag before its handler runs, and both sides hold the
                // lock: a waiter is either resumed here or found and resumed by the handler.
                let now = state.withLock { state in
                    guard state.version == seen && !Task.isCancelled else { return true }
                    state.waiters[token] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
        }
    }
}

/// Waits for a condition no event announces (a counter in the code under test), checking it
/// every few milliseconds; false when `timeoutMs` passes first. Like ``CollectingSink/wait``,
/// the timeout only bounds a failing test.
func eventually(timeoutMs: Int = testTimeoutMs, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
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

    /// Writes one byte at a time with a pause between, so the reader's reads mostly return
    /// single bytes. The pause shapes the input; nothing waits on it: the results must be the
    /// same however the bytes end up split into reads.
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
        fd = socket(AF_UNIX, SystemCall.datagramCloseOnExec, 0)
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
