#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CoreMetrics
import Synchronization
import Testing
import VoltCore
@testable import VoltSerial

@Suite struct ServiceStatusTests {
    @Test func noBoardYet() {
        #expect(ServiceStatus().line(clients: 0) == "waiting for a board (none plugged in), 0 clients")
        #expect(ServiceStatus().line(clients: nil) == "waiting for a board (none plugged in)")
    }

    @Test func aConnectedBoardShowsItsFrameRateAndTheClients() {
        var status = ServiceStatus()
        status.record(.deviceStatus(DeviceStatus(device: "uno", state: .connected, path: "/dev/ttyACM0")), atMs: 0)
        #expect(status.line(clients: 1) == "connected to /dev/ttyACM0, starting, 1 client")
        var counters = StreamCounters()
        counters.frames = 5
        status.record(.counters(device: "uno", counters), atMs: 1_000)
        counters.frames = 25
        status.record(.counters(device: "uno", counters), atMs: 3_000)
        #expect(status.line(clients: 3) == "connected to /dev/ttyACM0, 10.0 frames/s, 3 clients")
    }

    @Test func aLostBoardSaysSoAndSeveralBoardsAreListedByPath() {
        var status = ServiceStatus()
        status.record(.deviceStatus(DeviceStatus(device: "b", state: .connected, path: "/dev/ttyUSB0")), atMs: 0)
        status.record(.deviceStatus(DeviceStatus(device: "a", state: .disconnected, path: "/dev/ttyACM0")), atMs: 0)
        #expect(status.line(clients: 2)
            == "/dev/ttyACM0 disconnected, waiting for it to return, connected to /dev/ttyUSB0, starting, 2 clients")
    }

    @Test func aNoteFollowsTheDevices() {
        var status = ServiceStatus()
        status.note = "last reload refused (anomaly_threshold), old configuration in force"
        #expect(status.line(clients: nil).hasSuffix("; last reload refused (anomaly_threshold), old configuration in force"))
    }

    @Test func resultsDoNotChangeTheLine() {
        var status = ServiceStatus()
        let before = status
        status.record(.configReloaded(ModelConfig(), source: "x"), atMs: 5)
        #expect(status == before)
    }

    @Test(arguments: [(9.96, "10.0"), (0.0, "0.0"), (10.04, "10.0"), (2.25, "2.3")])
    func oneDecimal(value: Double, text: String) {
        #expect(ServiceStatus.oneDecimal(value) == text)
    }
}

@Suite struct ReloadOutcomeTests {
    let current = ModelConfig()

    @Test func aChangedFileIsAppliedAndItsChangesNamed() {
        var next = current
        next.anomalyThreshold = 0.9
        let outcome = ReloadOutcome.decide(path: "/etc/voltwatch/model_config.json", current: current) { _ in next }
        #expect(outcome == .applied(next, source: "/etc/voltwatch/model_config.json", changes: ["anomaly_threshold: 0.7 → 0.9"]))
        #expect(outcome.shortNote == nil)
    }

    @Test func anInvalidFileIsRefusedNamingTheKey() {
        let outcome = ReloadOutcome.decide(path: "model_config.json", current: current) { path throws(ConfigError) in
            try ModelConfig.parse(json: #"{"anomaly_threshold": 1.5, "window_size": 50, "sample_rate": 10}"#, source: path)
        }
        guard case .rejected = outcome else { Issue.record("expected rejected, got \(outcome)"); return }
        #expect(outcome.description.contains("anomaly_threshold"))
        #expect(outcome.description.contains("stays"))
        #expect(outcome.shortNote?.contains("anomaly_threshold") == true)
    }

    @Test func theSameValuesChangeNothingAndNoFileMeansNothingToReload() {
        #expect(ReloadOutcome.decide(path: "f", current: current) { _ in current } == .unchanged(source: "f"))
        #expect(ReloadOutcome.decide(path: nil, current: current) { _ in current } == .nothingToReload)
    }
}

/// Counts timer records, standing in for the Prometheus factory.
final class CountingMetrics: MetricsFactory, @unchecked Sendable {
    final class Handler: TimerHandler, CounterHandler, RecorderHandler, @unchecked Sendable {
        let values = Mutex<[Int64]>([])
        func recordNanoseconds(_ duration: Int64) { values.withLock { $0.append(duration) } }
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }
    let timer = Handler()
    let labels = Mutex<[String]>([])
    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handler() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        labels.withLock { $0.append(label) }
        return timer
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite struct ScorerTimingTests {
    @Test func timesScoredSamplesUnderTheServersLabel() {
        let metrics = CountingMetrics()
        var timing = ScorerTiming(every: 1, factory: metrics)
        var stream = DeviceStream(device: "d", config: ModelConfig())
        for seq in 0..<5 { _ = timing.measure { stream.ingest(line: String(frame(seq).dropLast()), receivedAtMs: Int64(seq) * 100) } }
        _ = timing.measure { stream.ingest(line: "garbage", receivedAtMs: 600) }
        #expect(metrics.labels.withLock { $0 } == ["voltwatch_scorer_duration_seconds"])
        #expect(metrics.timer.values.withLock { $0.count } == 5)
        #expect(metrics.timer.values.withLock { $0.allSatisfy { $0 > 0 } })
    }

    @Test func everyNthSampleOnly() {
        let metrics = CountingMetrics()
        var timing = ScorerTiming(every: 4, factory: metrics)
        var stream = DeviceStream(device: "d", config: ModelConfig())
        for seq in 0..<12 { _ = timing.measure { stream.ingest(line: String(frame(seq).dropLast()), receivedAtMs: Int64(seq) * 100) } }
        #expect(metrics.timer.values.withLock { $0.count } == 3)
    }
}

@Suite struct LiveConfigTests {
    @Test func replaceBumpsTheGenerationReadersWatch() {
        let live = LiveConfig(ModelConfig())
        #expect(live.generation == 0)
        var next = ModelConfig()
        next.anomalyThreshold = 0.5
        live.replace(with: next)
        let snapshot = live.snapshot()
        #expect(snapshot.generation == 1)
        #expect(snapshot.config.anomalyThreshold == 0.5)
    }
}

extension PtyTests {
@Suite struct ReaderReloadTests {
    /// A reload reaches a running reader: the port stays open (one connection) and results
    /// from then on are scored with the new configuration.
    @Test func aReplacedConfigAppliesWithoutReconnecting() async {
        let pty = TestPty()
        defer { pty.close() }
        let sink = CollectingSink()
        let live = LiveConfig(ModelConfig())
        let heartbeats = LoopHeartbeats()
        let session = DeviceSession(device: "pty", source: .path(pty.path), options: fastReaderOptions(), sink: sink,
                                    logger: testLogger, heartbeats: heartbeats, liveConfig: live)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            _ = await sink.wait { $0.count(.connected) >= 1 }
            #expect(heartbeats.count == 1)
            for seq in 0..<5 { pty.write(frame(seq)) }
            _ = await sink.wait { $0.results.count >= 5 }
            var strict = ModelConfig()
            strict.maxVolts = 1.0
            #expect(session.configGeneration == 0)
            live.replace(with: strict)
            // The loop applies it on its next pass (at the latest one heartbeat tick); every
            // line read from then on is scored with it.
            #expect(await eventually { session.configGeneration == 1 })
            for seq in 5..<10 { pty.write(frame(seq)) }
            _ = await sink.wait { $0.results.count >= 10 }
            group.cancelAll()
        }
        let results = sink.results
        #expect(results.count == 10)
        #expect(results.prefix(5).allSatisfy { !$0.kinds.contains(.outOfRange) })
        #expect(results.suffix(5).allSatisfy { $0.kinds.contains(.outOfRange) && $0.isAnomaly })
        #expect(sink.count(.connected) == 1)
        #expect(heartbeats.count == 0)
    }

    /// A reader waiting for a board that is not there still reports alive: waiting is
    /// healthy, only a stuck loop must stop the watchdog pings.
    ///
    /// The retry delay is an hour, so the reader spends the whole test in one wait: a beat
    /// stamped two ticks after the first can only come from inside that wait.
    @Test func aWaitingReaderKeepsReportingAlive() async {
        let sink = CollectingSink()
        let heartbeats = LoopHeartbeats()
        var options = fastReaderOptions()
        options.reconnect = ReconnectPolicy(initialDelayMs: 3_600_000, maxDelayMs: 3_600_000)
        let session = DeviceSession(device: "absent", source: .path("/dev/ttyNOPE\(getpid())"), options: options, sink: sink,
                                    logger: testLogger, heartbeats: heartbeats)
        let name = "serial reader absent"
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            #expect(await sink.wait { $0.count(.waiting) >= 1 })
            #expect(await eventually { heartbeats.lastBeatMs(of: name) != nil })
            let first = heartbeats.lastBeatMs(of: name) ?? .max
            let tick = Int64(LoopHeartbeats.tickMs)
            #expect(await eventually { (heartbeats.lastBeatMs(of: name) ?? 0) >= first + 2 * tick })
            #expect(heartbeats.count == 1)
            #expect(session.reconnectCount == 0)
            group.cancelAll()
        }
    }
}
}
