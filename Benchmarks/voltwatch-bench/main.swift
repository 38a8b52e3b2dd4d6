// voltwatch-bench: throughput of the pure core, in release mode.
//
//   swift run -c release voltwatch-bench core [CSV...]      framing + parsing + scoring of
//                                                           in-memory $VOLT lines, one core
//                                                           (default: the repository's voltage
//                                                           traces, tests/quality/data/voltage;
//                                                           .csv.gz files are read through gzip)
//   swift run -c release voltwatch-bench channels [CSV...]  the same for a six-channel board: the
//                                                           samples in `$VOLTS` frames of six
//                                                           readings (A0..A5), per reading
//   swift run -c release voltwatch-bench score OUT [--config F] CSV...   score files into OUT/<name>.jsonl
//                                                           (the core path of replay, for tuning)
//
// `scripts/bench.sh` runs both and times the real `voltwatch replay --fast` over the set.
import VoltCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Reads a CSV of the bench set (plain, or gzip-compressed as the repository keeps it) into
/// (epoch ms, volts) pairs.
func loadCSV(_ path: String) -> [(Int64, Double)] {
    let compressed = path.hasSuffix(".gz")
    guard let f = compressed ? popen("gzip -dc '\(path)'", "r") : fopen(path, "r") else { fatalError("cannot open \(path)") }
    defer { if compressed { pclose(f) } else { fclose(f) } }
    var rows: [(Int64, Double)] = []
    var replayer = TraceReplayer(device: "bench", config: .default)
    var line: UnsafeMutablePointer<CChar>?
    var cap = 0
    var n = 0
    var ms: Int64 = 0
    while getline(&line, &cap, f) > 0 {
        n += 1
        let text = String(cString: line!).trimmingCharacters()
        if case .result(let r) = replayer.feed(line: text, number: n) {
            ms = r.timestampMs
            rows.append((ms, r.voltage))
        }
    }
    free(line)
    return rows
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.last, c == "\n" || c == "\r" { s.removeLast() }
        return String(s)
    }
}

/// The bench traces as the firmware would send them: `$VOLT` frames with checksums.
func frames(from rows: [(Int64, Double)]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * 32)
    for (i, row) in rows.enumerated() {
        let volts = FixedPoint.format(row.1, digits: 3)
        let adc = Int((row.1 / 5.0 * 1023).rounded())
        out.append(contentsOf: FrameParser.sentence("VOLT,\(i),\(i * 100),\(adc),\(volts)").utf8)
        out.append(0x0A)
    }
    return out
}

/// Channels of the board `voltwatch-bench channels` plays: all six analog inputs of an Uno.
let boardChannels = 6

/// The same samples as a six-channel board sends them: `$VOLTS` frames, six consecutive samples
/// per frame on A0..A5, so each channel is a trace of its own (at a sixth of the rate).
func channelFrames(from rows: [(Int64, Double)], channels: Int = boardChannels) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * 20)
    var frame = 0
    for start in stride(from: 0, to: rows.count - channels + 1, by: channels) {
        var body = "VOLTS,\(frame),\(frame * 100)"
        for c in 0..<channels {
            let volts = rows[start + c].1
            body += ",A\(c),\(Int((volts / 5.0 * 1023).rounded())),\(FixedPoint.format(volts, digits: 3))"
        }
        out.append(contentsOf: FrameParser.sentence(body).utf8)
        out.append(0x0A)
        frame += 1
    }
    return out
}

/// The measured part: frame, parse and score every line, as the live reader does.
@inline(never)
func scoreStream(_ stream: [UInt8]) -> (anomalies: Int, checksum: Double) {
    var framer = LineFramer()
    var device = DeviceStream(device: "bench", config: .default)
    // Receive times advance 100 ms per line, as live.
    var t: Int64 = 1_700_000_000_000
    var anomalies = 0
    var checksum = 0.0
    stream.withUnsafeBufferPointer { bytes in
        framer.append(bytes) { line in
            t += 100
            switch device.ingest(line: line, receivedAtMs: t) {
            case .result(let r):
                checksum += r.anomalyScore
                if r.isAnomaly { anomalies += 1 }
            case .channels(let results):
                for c in results {
                    checksum += c.result.anomalyScore
                    if c.result.isAnomaly { anomalies += 1 }
                }
            default:
                break
            }
        }
    }
    return (anomalies, checksum)
}

func coreBenchmark(_ files: [String], channels: Bool = false) {
    var rows: [(Int64, Double)] = []
    for file in files { rows += loadCSV(file) }
    if channels { rows.removeLast(rows.count % boardChannels) }  // whole frames only
    let stream = channels ? channelFrames(from: rows) : frames(from: rows)
    let clock = ContinuousClock()
    var best = Double.infinity
    var checksum = 0.0
    var anomalies = 0
    let rounds = Int(getenv("BENCH_ROUNDS").map { String(cString: $0) } ?? "5") ?? 5
    for _ in 0..<rounds {
        let start = clock.now
        let run = scoreStream(stream)
        best = min(best, seconds(clock.now - start))
        anomalies = run.anomalies
        checksum = run.checksum
    }
    let rate = Double(rows.count) / best
    print("\(channels ? "channels" : "core"): \(rows.count) samples (\(stream.count / 1_048_576) MiB of \(channels ? "$VOLTS" : "$VOLT") frames), best of \(rounds): "
        + "\(FixedPoint.format(best * 1000, digits: 1)) ms = \(FixedPoint.format(rate / 1e6, digits: 2)) M samples/s "
        + "(\(FixedPoint.format(best / Double(rows.count) * 1e9, digits: 1)) ns/sample; anomalies \(anomalies), checksum \(FixedPoint.format(checksum, digits: 3)))")
}

func scoreFiles(out: String, config: ModelConfig, _ files: [String]) {
    mkdir(out, 0o755)
    for file in files {
        let name = String(file.split(separator: "/").last!.split(separator: ".").first!)
        guard let f = fopen(file, "r"), let o = fopen(out + "/" + name + ".jsonl", "w") else { fatalError("cannot open \(file)") }
        var replayer = TraceReplayer(device: name, config: config)
        let device = ResultEncoder.Device(name)
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        var n = 0
        var out: [UInt8] = []
        while true {
            let length = getline(&line, &cap, f)
            if length <= 0 { break }
            n += 1
            let bytes = UnsafeRawPointer(line!).assumingMemoryBound(to: UInt8.self)
            var count = length
            if count > 0 && bytes[count - 1] == 0x0A { count -= 1 }
            if case .result(let r) = replayer.feed(line: UnsafeBufferPointer(start: bytes, count: count), number: n) {
                ResultEncoder.appendLine(r, device: device, to: &out)
                if out.count > 1 << 20 { fwrite(out, 1, out.count, o); out.removeAll(keepingCapacity: true) }
            }
        }
        fwrite(out, 1, out.count, o)
        free(line)
        fclose(f)
        fclose(o)
    }
}

/// The voltage traces kept in the repository for the quality gate, relative to the package root.
func repositoryTraces() -> [String] {
    var matches = glob_t()
    defer { globfree(&matches) }
    guard glob("tests/quality/data/voltage/*.csv.gz", 0, nil, &matches) == 0 else {
        fatalError("no traces in tests/quality/data/voltage: run from the package root, or name CSV files")
    }
    return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "core":
    let files = args.count > 1 ? Array(args.dropFirst()) : repositoryTraces()
    coreBenchmark(files)
case "channels":
    coreBenchmark(args.count > 1 ? Array(args.dropFirst()) : repositoryTraces(), channels: true)
case "score" where args.count >= 3:
    var rest = Array(args.dropFirst(2))
    var config = ModelConfig.default
    if rest.first == "--config", rest.count >= 2 {
        guard let f = fopen(rest[1], "r") else { fatalError("cannot open \(rest[1])") }
        var bytes: [UInt8] = []
        var c = fgetc(f)
        while c != EOF { bytes.append(UInt8(c)); c = fgetc(f) }
        fclose(f)
        do { config = try ModelConfig.parse(json: bytes, source: rest[1]) } catch { print(error); exit(78) }
        rest.removeFirst(2)
    }
    scoreFiles(out: args[1], config: config, rest)
default:
    print("usage: voltwatch-bench core [CSV...] | channels [CSV...] | score OUT_DIR CSV...")
    exit(2)
}
