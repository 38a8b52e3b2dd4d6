#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import VoltCore
@testable import VoltSerial

extension PtyTests {
@Suite struct RecorderTests {
    func readFile(_ path: String) -> String {
        String(decoding: (try? FileBytes.read(path, limit: 1 << 24)) ?? [], as: UTF8.self)
    }

    @Test func recordingsReplayToTheResultsScoredLive() async throws {
        let directory = temporaryDirectory()
        let recorder = try Recorder(options: Recorder.Options(directory: directory), logger: testLogger)
        let pty = TestPty()
        defer { pty.close() }
        let sink = CollectingSink()
        let session = DeviceSession(device: "pty", source: .path(pty.path), options: fastReaderOptions(),
                                    sink: sink, recorder: recorder, logger: testLogger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            _ = await sink.wait { $0.count(.connected) >= 1 }
            for seq in 0..<30 { pty.write(frame(seq, volts: seq == 20 ? 4.0 : 2.5)) }
            pty.write("bad line\r\n" + String(repeating: "y", count: 300) + "\r\n")
            pty.write(frame(30))
            _ = await sink.wait { $0.results.count >= 31 && ($0.lastCounters?.invalid.total ?? 0) >= 2 }
            group.cancelAll()
        }
        recorder.close()
        let files = Posix.listDirectory(directory).map { directory + "/" + $0 }
        #expect(files.count == 1)
        var replayer = TraceReplayer(device: "pty", config: ModelConfig())
        var replayed: [ScoredResult] = []
        for (n, line) in readFile(files[0]).split(separator: "\n").enumerated() {
            if case .result(let r) = replayer.feed(line: String(line), number: n + 1) { replayed.append(r) }
        }
        #expect(replayed == sink.results)
        #expect(replayer.counters.invalid == sink.lastCounters?.invalid)
        #expect(replayer.counters.invalid.tooLong == 1)
        for file in files { unlink(file) }
        rmdir(directory)
    }

    @Test func filesRotateBySizeAndHour() throws {
        let directory = temporaryDirectory()
        var options = Recorder.Options(directory: directory)
        options.maxFileBytes = 200
        let recorder = try Recorder(options: options, logger: testLogger)
        let hour: Int64 = 1_732_170_000_000 - 1_732_170_000_000 % 3_600_000
        let line = Array("$VOLT,1,100,512,2.502*00".utf8)
        for i in 0..<20 {
            line.withUnsafeBufferPointer { recorder.record(device: "dev", receivedAtMs: hour + Int64(i), line: $0) }
        }
        line.withUnsafeBufferPointer { recorder.record(device: "dev", receivedAtMs: hour + 3_600_000, line: $0) }
        recorder.close()
        let names = Posix.listDirectory(directory).sorted()
        #expect(names.count >= 4)
        #expect(names.contains("dev-20241121-06.rec"))
        #expect(names.contains("dev-20241121-06.1.rec"))
        #expect(names.contains("dev-20241121-07.rec"))
        for name in names { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    /// Nobody calls `flush()` here: ``Recorder/run()`` writes buffered lines on its own, every
    /// `flushIntervalMs`, so a crash loses at most that much. The test waits for the
    /// recorder's acknowledgement that the line reached the file, then reads the file.
    @Test func theRecorderFlushesOnItsOwn() async throws {
        let directory = temporaryDirectory()
        var options = Recorder.Options(directory: directory)
        options.flushIntervalMs = 100
        let recorder = try Recorder(options: options, logger: testLogger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await recorder.run() }
            let line = Array("1.234".utf8)
            line.withUnsafeBufferPointer { recorder.record(device: "d", receivedAtMs: 1_000, line: $0) }
            #expect(await eventually { recorder.linesWritten == 1 })
            let files = Posix.listDirectory(directory)
            #expect(files.count == 1)
            #expect(files.first.map { readFile(directory + "/" + $0) }?.hasSuffix("1000\t1.234\n") == true)
            group.cancelAll()
        }
        for name in Posix.listDirectory(directory) { unlink(directory + "/" + name) }
        rmdir(directory)
    }
}
}
