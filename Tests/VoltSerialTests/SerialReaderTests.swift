#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims
import Testing
import VoltCore
@testable import VoltSerial

/// The termios path and the reader, through real ptys.
extension PtyTests {
@Suite struct SerialReaderTests {
    @Test func openConfiguresRaw8N1WithoutHUPCLAndCloseOnExec() throws {
        let pty = TestPty()
        defer { pty.close() }
        let port = try SerialPort.open(path: pty.path, baud: 115_200)
        defer { port.close() }
        #expect(vw_is_raw_8n1(port.fd) == 1)
        #expect(vw_input_baud(port.fd) == 115_200)
        #expect(fcntl(port.fd, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(port.fd, F_GETFL) & O_NONBLOCK != 0)
        // A pty has no modem lines: tolerated, not fatal.
        #expect(!port.hasModemLines)
    }

    @Test func aSecondOpenIsBusyAndNamesTheHolder() throws {
        let pty = TestPty()
        defer { pty.close() }
        let port = try SerialPort.open(path: pty.path)
        defer { port.close() }
        #expect(throws: SerialPortError.self) { try SerialPort.open(path: pty.path) }
        do {
            _ = try SerialPort.open(path: pty.path)
        } catch {
            guard case .busy = error.kind else { Issue.record("expected busy, got \(error)"); return }
            #expect(error.description.contains("port busy"))
        }
        let holder = PortHolder.find(pty.path, excludingSelf: false)
        #expect(holder?.contains("pid \(getpid())") == true)
    }

    @Test func missingPortsAndBadBaudRatesSayWhatToDo() {
        #expect(throws: SerialPortError(path: "/dev/ttyNOPE9", kind: .notFound)) {
            try SerialPort.open(path: "/dev/ttyNOPE9")
        }
        let pty = TestPty()
        defer { pty.close() }
        #expect(throws: SerialPortError(path: pty.path, kind: .unsupportedBaud(12_345))) {
            try SerialPort.open(path: pty.path, baud: 12_345)
        }
    }

    /// Runs a session on `pty` while `body` plays the board; returns what it published.
    func withSession(_ pty: TestPty, options: ReaderOptions = fastReaderOptions(),
                     _ body: @Sendable (CollectingSink) async -> Void) async -> CollectingSink {
        let sink = CollectingSink()
        let session = DeviceSession(device: "pty", source: .path(pty.path), options: options, sink: sink, logger: testLogger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            _ = await sink.wait { $0.count(.connected) >= 1 }
            await body(sink)
            group.cancelAll()
        }
        return sink
    }

    @Test func framesInResultsOutInvalidLinesCounted() async {
        let pty = TestPty()
        defer { pty.close() }
        let sink = await withSession(pty) { sink in
            pty.write(FrameParser.sentence("HELLO,voltwatch,1.2.0,uno,5000,10,100") + "\r\n")
            for seq in 0..<20 { pty.write(frame(seq)) }
            pty.write("$VOLT,20,3000,512,2.502*00\r\n")            // bad checksum
            pty.write("garbage\r\n")                               // syntax
            pty.write(String(repeating: "x", count: 200) + "\n")   // over-long
            pty.write(frame(21))
            _ = await sink.wait { $0.results.count >= 21 && ($0.lastCounters?.invalid.total ?? 0) >= 3 }
        }
        #expect(sink.results.map(\.seq) == (0..<20).map { UInt32($0) } + [21])
        let counters = sink.lastCounters
        #expect(counters?.hellos == 1)
        #expect(counters?.invalid.checksum == 1)
        #expect(counters?.invalid.syntax == 1)
        #expect(counters?.invalid.tooLong == 1)
        #expect(counters?.lost == 1)
        #expect(sink.all.contains { if case .hello(_, let h) = $0 { h.version == "1.2.0" } else { false } })
        #expect(sink.statuses.contains { $0.state == .connected && $0.firmware == "voltwatch 1.2.0" })
        // Receive times are whole epoch milliseconds of now.
        let now = Int64(time(nil)) * 1000
        #expect(sink.results.allSatisfy { abs($0.timestampMs - now) < 60_000 })
    }

    @Test func oneByteAtATimeGivesTheSameResults() async {
        let pty = TestPty()
        defer { pty.close() }
        let voltages = [2.5, 2.51, 2.49, 3.7, 2.5, 2.505]
        let sink = await withSession(pty) { sink in
            for (seq, volts) in voltages.enumerated() { pty.writeBytewise(frame(seq, volts: volts)) }
            _ = await sink.wait { $0.results.count >= voltages.count }
        }
        #expect(sink.results.map(\.seq) == (0..<voltages.count).map { UInt32($0) })
        #expect(sink.results.map(\.voltage) == voltages.map { Double(Int($0 / 5 * 1023)) >= 0 ? Double(FixedPoint.format($0, digits: 3))! : 0 })
        #expect(sink.lastCounters?.invalid.total ?? 0 == 0)
    }

    @Test func aPartialFirstLineIsDropped() async {
        let pty = TestPty()
        defer { pty.close() }
        var options = fastReaderOptions()
        options.resetDelayMs = 0
        let sink = await withSession(pty, options: options) { sink in
            pty.write("502*5C\r\n")  // the tail of a frame sent before we opened
            pty.write(frame(1))
            // Counters published after the frame was scored, so they include everything before it.
            _ = await sink.wait { $0.results.count >= 1 && ($0.lastCounters?.frames ?? 0) >= 1 }
        }
        #expect(sink.results.map(\.seq) == [1])
        // DESIGN.md: the partial first line is counted as invalid (syntax), never scored.
        #expect(sink.lastCounters?.invalid.syntax == 1)
        #expect(sink.lastCounters?.invalid.total == 1)
    }

    @Test func theResetWindowDiscardsLeftoversUntilHello() async {
        let pty = TestPty()
        defer { pty.close() }
        var options = fastReaderOptions()
        options.resetDelayMs = 300
        let sink = await withSession(pty, options: options) { sink in
            pty.write(frame(7))  // sent before the board reset
            pty.write(FrameParser.sentence("HELLO,voltwatch,1.0.0,uno,5000,10,100") + "\r\n")
            pty.write(frame(0))
            _ = await sink.wait { $0.results.count >= 1 }
        }
        #expect(sink.results.map(\.seq) == [0])
        #expect(sink.lastCounters?.hellos == 1)
    }

    @Test func aHangUpIsReportedAndTheWatchdogReopensASilentPort() async {
        let pty = TestPty()
        var options = fastReaderOptions()
        options.watchdogPeriods = 3  // 300 ms of silence
        let sink = await withSession(pty, options: options) { sink in
            pty.write(frame(0))
            _ = await sink.wait { $0.results.count >= 1 }
            // Silence: the watchdog closes and reopens.
            _ = await sink.wait { $0.count(.connected) >= 2 }
            // Master closed: the reader sees a hang-up.
            pty.close()
            _ = await sink.wait { $0.count(.disconnected) >= 2 }
        }
        #expect(sink.count(.connected) >= 2)
        #expect(sink.count(.disconnected) >= 2)
    }
}
}
