// libFuzzer target: replay's format detection and the three formats it reads.
// Built by scripts/fuzz.sh, not by the package (see docs/fuzzing.md).
import VoltCore

/// The input is a file given to `voltwatch replay` (or `POST /api/replay`): split into lines,
/// fed to a ``TraceReplayer``. Checks, besides "no crash": every result encodes to a JSON line
/// that the agent's own JSON parser reads back as an object, the lookahead detector agrees
/// with the replayer on the format, and the counts add up.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplay(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    var replayer = TraceReplayer(device: "fuzz", config: .default)
    var head: [String] = []
    var number = 0
    var results = 0
    var start = 0
    while start <= input.count {
        var end = start
        while end < input.count && input[end] != 0x0A { end += 1 }
        if end == input.count && start == end { break }
        number += 1
        let line = UnsafeBufferPointer(rebasing: input[start..<end])
        if head.count < 64 { head.append(String(decoding: line, as: UTF8.self)) }
        if case .result(let result) = replayer.feed(line: line, number: number) {
            results += 1
            let json = ResultEncoder.jsonLine(result, device: replayer.stream.device)
            guard case .object(let fields)? = try? JSONValue.parse(Array(json.utf8)) else {
                fatalError("result encoded as invalid JSON: \(json)")
            }
            check(fields["anomaly_score"] != nil && fields["voltage"] != nil, "result lacks fields: \(json)")
        }
        start = end + 1
    }
    check(replayer.errorCount <= number, "more errors than lines")
    check(results == replayer.counters.frames, "results \(results) but frames \(replayer.counters.frames)")
    // With every line of the file in `head`, the detector saw what the replayer saw.
    if let decided = replayer.format, number <= head.count {
        check(TraceFormat.detect(lines: head) == decided, "detector and replayer disagree")
    }
    _ = replayer.nothingScoredReason
    return 0
}

/// `precondition` that prints its message in optimised builds too (libFuzzer keeps the input;
/// the message says which promise it broke).
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
