// libFuzzer target: the serial line framer, the frame parser and the scorer behind them.
// Built by scripts/fuzz.sh, not by the package (see docs/fuzzing.md).
import VoltCore

/// The first byte of the input picks the size of the chunks the "serial port" hands over
/// (1 to 256 bytes); the rest is the byte stream. Checks, besides "no crash":
/// - the framer's promise: however the stream is split, the same lines come out, and the same
///   number of over-long lines is counted;
/// - no line it passes on is longer than the limit;
/// - every line goes through the live path (parser, then scorer) without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFraming(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let chunk = Int(input[0]) + 1
    let stream = UnsafeBufferPointer(rebasing: input[1...])

    var whole = LineFramer()
    var wholeLines: [[UInt8]] = []
    whole.append(stream) { wholeLines.append(Array($0)) }

    var pieces = LineFramer()
    var pieceLines: [[UInt8]] = []
    var start = 0
    while start < stream.count {
        let end = min(stream.count, start + chunk)
        pieces.append(UnsafeBufferPointer(rebasing: stream[start..<end])) { pieceLines.append(Array($0)) }
        start = end
    }
    check(wholeLines == pieceLines, "chunks of \(chunk) bytes framed differently from the whole stream")
    check(whole.overlongLines == pieces.overlongLines, "over-long count depends on chunking")

    var device = DeviceStream(device: "fuzz", config: .default)
    var receivedAtMs: Int64 = 1_732_170_000_000
    for line in wholeLines {
        check(!line.isEmpty && line.count <= LineFramer.defaultMaxLineLength, "framer passed on a line of \(line.count) bytes")
        receivedAtMs += 100
        let output = line.withUnsafeBufferPointer { device.ingest(line: $0, receivedAtMs: receivedAtMs) }
        if case .result(let result) = output {
            check((0...1).contains(result.anomalyScore), "score \(result.anomalyScore) outside [0, 1]")
            check(result.voltage.isFinite, "non-finite voltage scored")
        }
    }
    return 0
}

/// `precondition` that prints its message in optimised builds too (libFuzzer keeps the input;
/// the message says which promise it broke).
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
