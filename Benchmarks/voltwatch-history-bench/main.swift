// voltwatch-history-bench: what keeping history costs, in release mode.
//
//   voltwatch-history-bench [--streams 8] [--hz 10] [--seconds 3600] [--dir DIR]
//
// Publishes `streams` × `hz` synthetic results per simulated second into a real
// HistoryRecorder (a real SQLite file in DIR, default a new directory under /tmp) and flushes
// it once per simulated second, as the agent does: per-second and per-minute aggregates, a
// short alarm episode per stream every simulated minute (with its 30 s context), stream names.
// Simulated time runs as fast as the CPU allows; reported per simulated second of the agent:
//
//   - CPU: the process's CPU time (user + system, the SQLite writes included) per simulated
//     second, as a percentage of one core; split into publishing (on the live path, under the
//     recorder's lock) and flushing (the writer's thread);
//   - bytes: what the store handed the kernel (/proc/self/io wchar) and what reached the block
//     layer (write_bytes; the kernel may merge rewrites of a page that a real hour would have
//     written back apart, so wchar is the upper figure), per hour and per stream; the file and
//     WAL sizes at the end;
//   - one hourly pruning pass, timed.
//
// scripts/history_bench.py runs it (8 streams: CPU; 1 stream: bytes per device) beside the
// query benchmark and measurements of the real agent.
import Logging
import VoltCore
import VoltHistory
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct Options {
    var streams = 8
    var hz = 10
    var seconds = 3_600
    var dir: String?

    init(_ arguments: [String]) {
        var i = 0
        func value() -> String {
            i += 1
            guard i < arguments.count else { fatalError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--streams": streams = Int(value()) ?? streams
            case "--hz": hz = Int(value()) ?? hz
            case "--seconds": seconds = Int(value()) ?? seconds
            case "--dir": dir = value()
            case "-h", "--help":
                print("voltwatch-history-bench [--streams 8] [--hz 10] [--seconds 3600] [--dir DIR]")
                exit(0)
            default: fatalError("unknown argument \(arguments[i])")
            }
            i += 1
        }
    }
}

func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func wallSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// wchar and write_bytes of this process.
func io() -> (wchar: Int, writeBytes: Int) {
    let fd = open("/proc/self/io", O_RDONLY)
    guard fd >= 0 else { return (0, 0) }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 1_024)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1_024) }
    var wchar = 0, writeBytes = 0
    for line in String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: ":")
        guard parts.count == 2, let value = Int(parts[1].trimmingSpaces) else { continue }
        if parts[0] == "wchar" { wchar = value }
        if parts[0] == "write_bytes" { writeBytes = value }
    }
    return (wchar, writeBytes)
}

func fileSize(_ path: String) -> Int {
    var s = stat()
    return stat(path, &s) == 0 ? Int(s.st_size) : 0
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return s
    }
}

func format(_ x: Double, _ digits: Int = 2) -> String { FixedPoint.format(x, digits: digits) }

func main() throws {
    let options = Options(Array(CommandLine.arguments.dropFirst()))
    let directory: String = options.dir ?? {
        var template = Array("/tmp/voltwatch-history-bench-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }()
    let path = directory + "/history.sqlite"
    unlink(path); unlink(path + "-wal"); unlink(path + "-shm")

    let logger = Logger(label: "bench")
    let recorder = HistoryRecorder(options: .init(path: path), logger: logger)
    precondition(recorder.health.snapshot.state == .ok, "cannot open \(path)")

    // A week ago, on a whole minute: far inside retention, every row new.
    var nowSpec = timespec()
    clock_gettime(CLOCK_REALTIME, &nowSpec)
    let t0 = (Int64(nowSpec.tv_sec) - Int64(options.seconds) - 60) / 60 * 60 * 1_000
    let periodMs = Int64(1_000 / options.hz)
    let streams = (0..<options.streams).map { "bench-\($0)" }
    var trackers = streams.map { _ in EpisodeTracker() }
    var random: UInt64 = 0x9E37_79B9_7F4A_7C15
    func noise() -> Double {
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(random >> 11) / Double(1 << 53) - 0.5
    }

    var publishCPU = 0.0, flushCPU = 0.0
    var slowestFlush = 0.0
    let ioBefore = io()
    let wallStart = wallSeconds()
    for second in 0..<options.seconds {
        let c0 = cpuSeconds()
        for tick in 0..<options.hz {
            let ms = t0 + Int64(second) * 1_000 + Int64(tick) * periodMs
            for (index, stream) in streams.enumerated() {
                // A spike of two samples once a simulated minute per stream, staggered.
                let anomalous = (second + index * 7) % 60 == 30 && tick < 2
                let value = anomalous ? 4.2 : 2.5 + 0.004 * noise()
                var result = ScoredResult(
                    anomalyScore: anomalous ? 0.95 : 0.05, isAnomaly: anomalous, confidence: 1, timestampMs: ms,
                    voltage: value, seq: UInt32(truncatingIfNeeded: second * options.hz + tick),
                    severity: anomalous ? .critical : .normal, kinds: anomalous ? [.spike] : [],
                    reasons: anomalous ? ["spike: \(value) V"] : [])
                let change = trackers[index].observe(&result)
                recorder.publish(.result(device: stream, result))
                if change != .none { recorder.publish(.episode(device: stream, change)) }
            }
        }
        let c1 = cpuSeconds()
        recorder.flush()
        let c2 = cpuSeconds()
        publishCPU += c1 - c0
        flushCPU += c2 - c1
        slowestFlush = max(slowestFlush, c2 - c1)
    }
    let wall = wallSeconds() - wallStart
    let ioAfter = io()
    let health = recorder.health.snapshot
    precondition(health.state == .ok && health.writes == options.seconds, "the store failed: \(health)")

    // One hourly pruning pass over what was written (nothing is old enough to go: the pass is the cost).
    let p0 = cpuSeconds(), w0 = wallSeconds()
    let store = try recorder.currentStore()
    try store.prune(secondsBeforeMs: t0 - 7 * 86_400_000, minutesBeforeMs: t0 - 365 * 86_400_000)
    let pruneCPU = cpuSeconds() - p0, pruneWall = wallSeconds() - w0

    let simulated = Double(options.seconds)
    let hours = simulated / 3_600
    let n = Double(options.streams)
    let wchar = Double(ioAfter.wchar - ioBefore.wchar), written = Double(ioAfter.writeBytes - ioBefore.writeBytes)
    print("voltwatch-history-bench: \(options.streams) stream(s) × \(options.hz) Hz, \(options.seconds) simulated s (\(format(hours, 3)) h), \(path)")
    print("  results          \(options.streams * options.hz * options.seconds), flushes \(health.writes), wall \(format(wall)) s (\(format(simulated / wall, 0))× real time)")
    print("  CPU per simulated second: \(format((publishCPU + flushCPU) / simulated * 1e6, 0)) µs = \(format((publishCPU + flushCPU) / simulated * 100, 3)) % of one core")
    print("    publish (live path)  \(format(publishCPU / simulated * 1e6, 0)) µs/s (\(format(publishCPU / (simulated * n * Double(options.hz)) * 1e9, 0)) ns per result)")
    print("    flush (writer)       \(format(flushCPU / simulated * 1e6, 0)) µs/s, slowest flush \(format(slowestFlush * 1e3)) ms CPU")
    print("  bytes per hour:  wchar \(format(wchar / hours / 1e6)) MB (\(format(wchar / hours / n / 1e6)) MB per stream), write_bytes \(format(written / hours / 1e6)) MB (\(format(written / hours / n / 1e6)) MB per stream)")
    print("    per flush: wchar \(format(wchar / simulated / 1e3, 1)) kB")
    print("  files: history.sqlite \(format(Double(fileSize(path)) / 1e6)) MB, -wal \(format(Double(fileSize(path + "-wal")) / 1e6)) MB")
    print("  pruning pass:    \(format(pruneCPU * 1e3)) ms CPU, \(format(pruneWall * 1e3)) ms wall")
}

try main()
