#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
import CLinuxShims
import Synchronization
public import VoltCore

/// Reads one device for the life of the agent: opens it, feeds every line to its
/// ``DeviceStream``, publishes results, and reconnects with backoff when it goes away.
///
/// The loop runs on its own thread (``BlockingThread``) because it blocks in `poll`. The
/// stream (scorer, counters) lives as long as the session, so a replugged board continues its
/// statistics and the gap shows up as a dropout.
public final class DeviceSession: Sendable {
    /// Where the port is found.
    public enum Source: Sendable {
        /// A fixed path (or link); tried with backoff while it does not exist.
        case path(String)
        /// A device discovery tracks; its current path comes from the registry.
        case discovered(DeviceRegistry)
    }

    /// Why a connection ended.
    public enum End: Sendable, Equatable {
        case hangUp(errno: Int32)
        case watchdog(silentMs: Int64)
        case stopped
    }

    public let device: String
    public let source: Source
    let options: ReaderOptions
    let sink: any AgentEventSink
    let recorder: Recorder?
    let logger: Logger
    /// Where the loop reports alive for the systemd watchdog, if anyone listens.
    let heartbeats: LoopHeartbeats?
    /// The configuration in force; a reload replaces it and the loop applies it to its stream.
    let liveConfig: LiveConfig?
    /// Scorer timing: one sample in this many is timed.
    let timingEvery: Int
    private let wakeup = Wakeup()
    private let stopRequested = Atomic<Bool>(false)
    private let reconnects = Atomic<Int>(0)
    private let appliedGeneration = Atomic<Int>(0)

    public init(
        device: String, source: Source, options: ReaderOptions,
        sink: any AgentEventSink, recorder: Recorder? = nil, logger: Logger,
        heartbeats: LoopHeartbeats? = nil, liveConfig: LiveConfig? = nil, timingEvery: Int = 1
    ) {
        self.heartbeats = heartbeats
        self.liveConfig = liveConfig
        self.timingEvery = timingEvery
        self.device = device
        self.source = source
        self.options = options
        self.sink = sink
        self.recorder = recorder
        var logger = logger
        logger[metadataKey: "device"] = "\(device)"
        self.logger = logger
    }

    /// Connections after the first one.
    public var reconnectCount: Int { reconnects.load(ordering: .relaxed) }

    /// The ``LiveConfig/generation`` this session's stream scores with: after a reload it
    /// catches up within one pass of the loop (one heartbeat tick at most). Every line read
    /// after it moved is scored with the new configuration, which is what a test of a reload
    /// waits for instead of sleeping.
    public var configGeneration: Int { appliedGeneration.load(ordering: .acquiring) }

    /// Reads until the task is cancelled (or ``stop()``).
    public func run() async {
        if case .discovered(let registry) = source { registry.subscribe(wakeup) }
        defer { if case .discovered(let registry) = source { registry.unsubscribe(wakeup) } }
        await withTaskCancellationHandler {
            await BlockingThread.run(name: "serial-reader") { self.loop() }
        } onCancel: {
            self.stop()
        }
    }

    /// Ends the loop from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    private var stopped: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    private func currentPath() -> String? {
        switch source {
        case .path(let path): path
        case .discovered(let registry): registry.device(id: device)?.path
        }
    }

    // MARK: The blocking loop

    private func loop() {
        let initial = liveConfig?.snapshot() ?? (config: options.config, settings: options.settings, generation: 0)
        var stream = DeviceStream(device: device, config: initial.config, settings: initial.settings,
                                  firstEpisodeIDs: options.firstEpisodeIDs)
        noteSettings(of: stream)
        appliedGeneration.store(initial.generation, ordering: .releasing)
        var upkeep = Upkeep(beat: heartbeats?.register("serial reader \(device)"), liveConfig: liveConfig,
                            generation: initial.generation) { stream, generation in
            self.noteSettings(of: stream)
            self.appliedGeneration.store(generation, ordering: .releasing)
        }
        defer { if let beat = upkeep.beat { heartbeats?.unregister(beat) } }
        var timing = ScorerTiming(every: timingEvery)
        var machine = ReconnectMachine(policy: options.reconnect)
        var lastError: String?
        sink.publish(.deviceStatus(DeviceStatus(device: device, state: .waiting, path: currentPath())))
        var action = machine.start(devicePresent: currentPath() != nil)
        while !stopped {
            upkeep.pass(stream: &stream, logger: logger)
            announceSilences(&stream)
            switch action {
            case .open, .read:
                guard let path = currentPath() else {
                    action = machine.openFailed(retryable: true, devicePresent: false)
                    continue
                }
                let port: SerialPort
                do {
                    port = try SerialPort.open(path: path, baud: options.baudRate)
                } catch {
                    // Log a failure once, not every retry: a missing board is a normal state.
                    if error.description != lastError {
                        logger.warning("\(error.description)")
                        lastError = error.description
                    }
                    action = machine.openFailed(retryable: error.isRetryable, devicePresent: currentPath() != nil)
                    continue
                }
                lastError = nil
                _ = machine.opened()
                if machine.connections > 1 { reconnects.add(1, ordering: .relaxed) }
                logger.info("connected", metadata: ["path": "\(path)"])
                let firmware = stream.hello.map { "\($0.firmware) \($0.version)" }
                sink.publish(.deviceStatus(DeviceStatus(device: device, state: .connected, path: path, firmware: firmware)))
                recorder?.event(device: device, atMs: Posix.epochMilliseconds(), "connected \(path)")
                let end = read(port, stream: &stream, machine: &machine, upkeep: &upkeep, timing: &timing)
                port.close()
                publishCounters(of: stream)
                sink.publish(.deviceStatus(DeviceStatus(device: device, state: .disconnected, path: path,
                                                        firmware: stream.hello.map { "\($0.firmware) \($0.version)" })))
                recorder?.event(device: device, atMs: Posix.epochMilliseconds(), "disconnected \(path) \(Self.describe(end))")
                if end == .stopped || stopped { return }
                logger.warning("disconnected: \(Self.describe(end)); reconnecting", metadata: ["path": "\(path)"])
                action = machine.connectionLost(devicePresent: currentPath() != nil)
            case .retry(let ms):
                let deadline = MonotonicTime.milliseconds() + Int64(ms)
                while !stopped {
                    let remaining = deadline - MonotonicTime.milliseconds()
                    if remaining <= 0 { break }
                    wakeup.wait(milliseconds: min(Int(remaining), LoopHeartbeats.tickMs))
                    upkeep.pass(stream: &stream, logger: logger)
                    announceSilences(&stream)
                }
                action = machine.timerFired(devicePresent: currentPath() != nil)
            case .waitForDevice:
                sink.publish(.deviceStatus(DeviceStatus(device: device, state: .waiting)))
                while !stopped && currentPath() == nil {
                    wakeup.wait(milliseconds: LoopHeartbeats.tickMs)
                    upkeep.pass(stream: &stream, logger: logger)
                    announceSilences(&stream)
                }
                action = machine.timerFired(devicePresent: currentPath() != nil)
            }
        }
    }

    static func describe(_ end: End) -> String {
        switch end {
        case .hangUp(let code): code == 0 ? "hang-up (end of file)" : "hang-up (\(Posix.describe(code)))"
        case .watchdog(let ms): "no data for \(ms) ms (watchdog)"
        case .stopped: "shutdown"
        }
    }

    /// Reads one connection until it ends.
    private func read(
        _ port: SerialPort, stream: inout DeviceStream, machine: inout ReconnectMachine,
        upkeep: inout Upkeep, timing: inout ScorerTiming
    ) -> End {
        var framer = LineFramer(maxLineLength: options.maxLineLength)
        var seenOverlong = 0
        var dropper = PartialLineDropper(active: options.resetDelayMs == 0)
        let openedAt = MonotonicTime.milliseconds()
        // While settling after the board's reset, lines are leftovers until a $HELLO.
        var settling = options.resetDelayMs > 0
        var lastData = openedAt
        var nextCounters = openedAt + Int64(options.countersIntervalMs)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var sampling = SamplingRequest()
        var fds = [pollfd(fd: port.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeup.fd, events: Int16(POLLIN), revents: 0)]
        while !stopped {
            upkeep.pass(stream: &stream, logger: logger)
            announceSilences(&stream)
            let now = MonotonicTime.milliseconds()
            let periodMs = Double(stream.hello?.periodMs ?? 0) > 0 ? Double(stream.hello!.periodMs) : stream.config.periodMs
            let watchdogMs = Int64(max(1, periodMs * Double(options.watchdogPeriods)))
            let graceUntil = openedAt + Int64(options.resetDelayMs)
            let watchdogAt = max(lastData, graceUntil) + watchdogMs
            if settling && now >= graceUntil {
                settling = false
                port.flushInput()
                framer.reset()
                dropper = PartialLineDropper()
            }
            if now >= watchdogAt { return .watchdog(silentMs: now - lastData) }
            if now >= nextCounters {
                publishCounters(of: stream)
                nextCounters = now + Int64(options.countersIntervalMs)
            }
            var timeout = min(watchdogAt, nextCounters) - now
            if settling { timeout = min(timeout, graceUntil - now) }
            timeout = min(timeout, Int64(LoopHeartbeats.tickMs))
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, Int32(clamping: max(1, timeout)))
            if ready < 0 {
                if errno == EINTR { continue }
                return .hangUp(errno: errno)
            }
            if fds[1].revents != 0 { wakeup.drain() }
            let revents = Int32(fds[0].revents)
            if revents & Int32(POLLNVAL) != 0 { return .hangUp(errno: EBADF) }
            guard revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
            let outcome = buffer.withUnsafeMutableBytes { port.read(into: $0) }
            switch outcome {
            case .wouldBlock:
                if revents & Int32(POLLHUP | POLLERR) != 0 { return .hangUp(errno: EIO) }
                continue
            case .hangUp(let code):
                return .hangUp(errno: code)
            case .bytes(let count):
                lastData = MonotonicTime.milliseconds()
                let receivedAt = Posix.epochMilliseconds()
                machine.dataReceived()
                buffer.withUnsafeBufferPointer { all in
                    var chunk = UnsafeBufferPointer(rebasing: all[0..<count])
                    let drop = dropper.bytesToDrop(in: chunk)
                    if drop > 0 {
                        chunk = UnsafeBufferPointer(rebasing: chunk[drop...])
                        if !dropper.active {
                            // Counted as invalid, as DESIGN.md says; the recording notes it so
                            // a replay counts it too.
                            stream.countRejected(.syntax)
                            recorder?.event(device: device, atMs: receivedAt, "\(RecordingEvent.droppedPartialLine) (\(dropper.dropped) bytes)")
                        }
                    }
                    framer.append(chunk) { line in
                        if settling {
                            guard line.starts(with: Self.helloPrefix) else { return }
                            settling = false
                        }
                        handle(line: line, receivedAt: receivedAt, stream: &stream, timing: &timing)
                    }
                }
                if let command = sampling.command(hello: stream.hello, wanted: stream.settings.boards[device]) {
                    let sent = port.write(Array((command + "\r\n").utf8))
                    logger.notice(sent ? "asked the board to change what it samples" : "could not write to the board",
                                  metadata: ["command": "\(command)"])
                    recorder?.event(device: device, atMs: receivedAt, "sent \(command)")
                }
                let overlong = framer.overlongLines - seenOverlong
                if overlong > 0 && !settling {
                    seenOverlong = framer.overlongLines
                    stream.countOverlong(overlong)
                    for _ in 0..<overlong { recorder?.recordOverlong(device: device, receivedAtMs: receivedAt) }
                } else {
                    seenOverlong = framer.overlongLines
                }
            }
        }
        return .stopped
    }

    /// Opens a dropout episode for every signal the clock says has been silent for longer
    /// than the timeout (``DeviceStream/noteSilence(nowMs:)``), at each pass of the loop (at
    /// least once a second): a board that stops talking alarms while it is silent, also while
    /// the port is gone or being reopened.
    private func announceSilences(_ stream: inout DeviceStream) {
        sink.publish(episodes: stream.noteSilence(nowMs: Posix.epochMilliseconds()))
    }

    private static let helloPrefix = Array("$HELLO,".utf8)
    private static let errorPrefix = Array("$ERR,".utf8)

    /// The board's health under its id, and each channel's under `<device>/<channel>`.
    private func publishCounters(of stream: DeviceStream) {
        sink.publish(.counters(device: device, stream.counters))
        for signal in stream.channelSignals.compactMap({ $0 }) where signal.counters.frames > 0 {
            sink.publish(.counters(device: signal.id, signal.counters))
        }
    }

    /// Tells the recording which names, units and calibrations are in effect, so a replay of
    /// it shows the values seen live.
    private func noteSettings(of stream: DeviceStream) {
        let mine = stream.settings.restricted(to: device)
        recorder?.noteSettings(device: device, json: mine == .empty ? nil : mine.compactJSON(),
                               atMs: Posix.epochMilliseconds())
    }

    private func handle(
        line: UnsafeBufferPointer<UInt8>, receivedAt: Int64, stream: inout DeviceStream, timing: inout ScorerTiming
    ) {
        recorder?.record(device: device, receivedAtMs: receivedAt, line: line)
        let output = timing.measure { stream.ingest(line: line, receivedAtMs: receivedAt) }
        // A silence the clock had not announced yet (shorter than a pass of the loop) opens
        // its dropout episode before the line's results join it.
        sink.publish(episodes: stream.silences)
        switch output {
        case .result(let result):
            sink.publish(.result(device: device, result))
            if stream.lastEpisodeChange != .none { sink.publish(.episode(device: device, stream.lastEpisodeChange)) }
        case .channels(let results):
            for channel in results {
                sink.publish(.result(device: channel.stream, channel.result))
                if channel.episodeChange != .none { sink.publish(.episode(device: channel.stream, channel.episodeChange)) }
            }
        case .hello(let hello):
            sink.publish(episodes: stream.endedEpisodes)
            logger.info("board says hello", metadata: ["firmware": "\(hello.firmware) \(hello.version)", "board": "\(hello.board)"])
            sink.publish(.hello(device: device, hello))
            sink.publish(.deviceStatus(DeviceStatus(device: device, state: .connected, path: currentPath(),
                                                    firmware: "\(hello.firmware) \(hello.version)")))
        case .rejected(let rejection):
            if line.starts(with: Self.errorPrefix) {
                logger.warning("the board refused a command: \(String(decoding: line.prefix(64), as: UTF8.self))")
            } else {
                logger.debug("invalid line: \(rejection)")
            }
        }
    }
}

/// What the reader loop does on every pass besides reading: report alive for the watchdog,
/// and apply a reloaded configuration (SIGHUP) to the stream without closing the port.
struct Upkeep {
    let beat: LoopHeartbeats.Beat?
    let liveConfig: LiveConfig?
    /// The ``LiveConfig/generation`` the stream was last given.
    var generation: Int
    /// Told the stream and its generation once the stream has it (``DeviceSession/configGeneration``).
    let applied: (DeviceStream, Int) -> Void

    mutating func pass(stream: inout DeviceStream, logger: Logger) {
        beat?.beat()
        guard let liveConfig, liveConfig.generation != generation else { return }
        let next = liveConfig.snapshot()
        generation = next.generation
        stream.apply(next.config, settings: next.settings)
        applied(stream, generation)
        logger.info("applied the reloaded configuration", metadata: ["anomaly_threshold": "\(next.config.anomalyThreshold)"])
    }
}
