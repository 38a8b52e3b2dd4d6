#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import VoltCore
@testable import VoltSerial

/// Unplug and replug the fake device many times: every replug reconnects, results flow after
/// each, and no terminal descriptor leaks (suites that open terminals run one at a time, so
/// nothing else moves that count).
extension PtyTests {
@Suite struct ReplugTests {
    @Test func hundredReplugsReconnectEveryTimeWithoutLeakingDescriptors() async throws {
        let directory = temporaryDirectory()
        var fakeOptions = FakeDevice.Options()
        fakeOptions.periodMs = 10
        fakeOptions.link = directory + "/fake"
        let fake = try FakeDevice(options: fakeOptions, logger: testLogger)
        let sink = CollectingSink()
        let session = DeviceSession(device: "fake", source: .path(directory + "/fake"),
                                    options: fastReaderOptions(), sink: sink, logger: testLogger)
        let cycles = 100
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await fake.run() }
            group.addTask { await session.run() }
            #expect(await sink.wait { $0.results.count >= 1 })
            let baseline = OpenDescriptors.terminalCount()
            for cycle in 1...cycles {
                fake.unplug()
                #expect(await sink.wait { $0.count(.disconnected) >= cycle }, "cycle \(cycle): no disconnect")
                try fake.replug()
                let before = sink.results.count
                #expect(await sink.wait { $0.count(.connected) >= cycle + 1 }, "cycle \(cycle): no reconnect")
                #expect(await sink.wait { $0.results.count > before + 2 }, "cycle \(cycle): no results after replug")
            }
            #expect(session.reconnectCount == cycles)
            #expect(OpenDescriptors.terminalCount() == baseline)
            group.cancelAll()
        }
        rmdir(directory)
    }
}
}
