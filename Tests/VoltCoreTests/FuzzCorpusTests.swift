import Foundation
import Testing
@testable import VoltCore

/// The fuzzers' promises (Fuzz/Targets, docs/fuzzing.md), checked by `swift test` on the seeds
/// in Fuzz/Corpus and on every input kept in Fuzz/Regressions: an input that once broke a
/// target is dropped there (`Fuzz/Regressions/<target>/<name>`) and stays a test without the
/// fuzzer.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    /// `Fuzz/` of this checkout, found from this file's path.
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// Every input for `target`: its seeds and its regressions.
    static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for folder in ["Corpus", "Regressions"] {
            let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() {
                if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) {
                    out.append(("\(folder)/\(target)/\(name)", Array(data)))
                }
            }
        }
        return out
    }

    @Test func theSeedsAreThere() {
        for target in ["framing", "replay", "config"] {
            #expect(Self.inputs(target).count >= 5, "Fuzz/Corpus/\(target) at \(Self.fuzzDirectory.path)")
        }
    }

    @Test func framingDoesNotDependOnHowTheStreamIsSplit() {
        for (name, bytes) in Self.inputs("framing") where !bytes.isEmpty {
            let stream = Array(bytes.dropFirst())
            func frame(chunk: Int) -> (lines: [[UInt8]], overlong: Int) {
                var framer = LineFramer()
                var lines: [[UInt8]] = []
                var start = 0
                while start < stream.count {
                    let end = min(stream.count, start + chunk)
                    framer.append(contentsOf: stream[start..<end]) { lines.append(Array($0)) }
                    start = end
                }
                return (lines, framer.overlongLines)
            }
            let whole = frame(chunk: max(1, stream.count))
            for chunk in [1, 2, 3, 7, 64, Int(bytes[0]) + 1] {
                let pieces = frame(chunk: chunk)
                #expect(pieces.lines == whole.lines && pieces.overlong == whole.overlong, "\(name), chunks of \(chunk)")
            }
            var device = DeviceStream(device: "fuzz", config: .default)
            for (i, line) in whole.lines.enumerated() {
                #expect(!line.isEmpty && line.count <= LineFramer.defaultMaxLineLength, "\(name)")
                if case .result(let r) = line.withUnsafeBufferPointer({ device.ingest(line: $0, receivedAtMs: Int64(i) * 100) }) {
                    #expect((0...1).contains(r.anomalyScore) && r.voltage.isFinite, "\(name)")
                }
            }
        }
    }

    @Test func replayedResultsEncodeToJSONTheAgentReadsBack() {
        for (name, bytes) in Self.inputs("replay") {
            var replayer = TraceReplayer(device: "fuzz", config: .default)
            var results = 0
            for (i, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
                if case .result(let r) = Array(line).withUnsafeBufferPointer({ replayer.feed(line: $0, number: i + 1) }) {
                    results += 1
                    let json = ResultEncoder.jsonLine(r, device: replayer.stream.device)
                    guard case .object(let fields)? = try? JSONValue.parse(Array(json.utf8)) else {
                        Issue.record("\(name): result encoded as invalid JSON: \(json)")
                        continue
                    }
                    #expect(fields["anomaly_score"] != nil, "\(name)")
                }
            }
            #expect(results == replayer.counters.frames, "\(name)")
        }
    }

    @Test func acceptedConfigurationsPrintAsJSONThatParsesBackEqual() {
        var accepted = 0
        for (name, bytes) in Self.inputs("config") {
            do {
                let config = try ModelConfig.parse(json: bytes)
                accepted += 1
                let printed = try? ModelConfig.parse(json: config.jsonText())
                #expect(printed == config, "\(name)")
            } catch {
                #expect(!error.issues.isEmpty, "\(name)")
            }
        }
        #expect(accepted >= 2, "the shipped and the minimal configurations are seeds")
    }
}
