import Testing
@testable import VoltCore

/// The framer turns whatever chunks the kernel hands over into lines: the result must not
/// depend on where the chunks were cut.
@Suite("LineFramer")
struct LineFramerTests {
    /// What a real port delivers over a while: frames with both line endings, blank lines, an
    /// over-long line, binary noise and lines at the length limit.
    static let line128 = String(repeating: "7", count: 128)
    static let line129 = String(repeating: "8", count: 129)
    static let overlong200 = String(repeating: "X", count: 200)
    static let garbage: [UInt8] = [0xFF, 0x00, 0x41, 0xC3, 0x28, 0x7E]

    static let stream: [UInt8] = {
        var bytes: [UInt8] = []
        func add(_ s: String) { bytes += Array(s.utf8) }
        add(Bench.voltLine(seq: 0, volts: 2.5) + "\r\n")
        add(Bench.voltLine(seq: 1, volts: 2.505) + "\n")
        add("\n")
        add("\r\n")
        add(overlong200 + "\r\n")
        add("2.5\n")
        bytes += garbage
        add("\n")
        add(line128 + "\r\n")
        add(line129 + "\n")
        add(line128 + "\n")
        add(Bench.helloLine + "\r\n")
        add(overlong200 + "\n")
        add(Bench.voltLine(seq: 2, volts: 2.495) + "\r\n")
        add("partial line never ended")
        return bytes
    }()

    /// The lines the stream holds, by hand: terminators and `\r` removed, blank lines skipped,
    /// the two over-long lines and the 129-byte line dropped, the unterminated tail kept back.
    static let expectedLines: [[UInt8]] = [
        Array(Bench.voltLine(seq: 0, volts: 2.5).utf8),
        Array(Bench.voltLine(seq: 1, volts: 2.505).utf8),
        Array("2.5".utf8),
        garbage,
        Array(line128.utf8),
        Array(line128.utf8),
        Array(Bench.helloLine.utf8),
        Array(Bench.voltLine(seq: 2, volts: 2.495).utf8),
    ]
    static let expectedOverlong = 3

    /// Feeds `bytes` in chunks of `size` and returns the lines and the framer.
    static func frame(_ bytes: [UInt8], chunkSize size: Int, maxLineLength: Int = LineFramer.defaultMaxLineLength)
        -> (lines: [[UInt8]], framer: LineFramer)
    {
        var framer = LineFramer(maxLineLength: maxLineLength)
        var lines: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            framer.append(contentsOf: bytes[start..<end]) { lines.append(Array($0)) }
            start = end
        }
        return (lines, framer)
    }

    @Test func wholeStreamGivesTheExpectedLines() {
        let (lines, framer) = Self.frame(Self.stream, chunkSize: Self.stream.count)
        #expect(lines == Self.expectedLines)
        #expect(framer.overlongLines == Self.expectedOverlong)
        #expect(framer.hasPartialLine, "the unterminated tail is held for the next chunk")
    }

    @Test("every chunk size gives the lines of the whole stream", arguments: 1...64)
    func chunking(size: Int) {
        let (lines, framer) = Self.frame(Self.stream, chunkSize: size)
        #expect(lines == Self.expectedLines)
        #expect(framer.overlongLines == Self.expectedOverlong)
    }

    @Test func unevenChunksFromAnUnsafeBuffer() {
        // Chunk sizes that change every call, through the pointer API the serial reader uses.
        var framer = LineFramer()
        var lines: [[UInt8]] = []
        var rng = SplitMix64(seed: 7)
        var start = 0
        Self.stream.withUnsafeBufferPointer { all in
            while start < all.count {
                let end = min(all.count, start + Int(rng.next() % 40))
                framer.append(UnsafeBufferPointer(rebasing: all[start..<end])) { lines.append(Array($0)) }
                start = end
            }
        }
        #expect(lines == Self.expectedLines)
        #expect(framer.overlongLines == Self.expectedOverlong)
    }

    @Test func lineOfExactly128BytesPasses() {
        let (lines, framer) = Self.frame(Array((Self.line128 + "\n").utf8), chunkSize: 1000)
        #expect(lines == [Array(Self.line128.utf8)])
        #expect(framer.overlongLines == 0)
    }

    @Test("128 bytes pass and 129 are dropped, with \\r\\n, whole or byte by byte", arguments: [1, 3, 64, 1000])
    func lengthLimitWithCarriageReturn(chunk: Int) {
        let text = Self.line128 + "\r\n" + Self.line129 + "\r\n" + "ok\r\n"
        let (lines, framer) = Self.frame(Array(text.utf8), chunkSize: chunk)
        #expect(lines == [Array(Self.line128.utf8), Array("ok".utf8)])
        #expect(framer.overlongLines == 1)
    }

    @Test func lineOf129BytesIsDroppedAndCounted() {
        let (lines, framer) = Self.frame(Array((Self.line129 + "\nnext\n").utf8), chunkSize: 1000)
        #expect(lines == [Array("next".utf8)])
        #expect(framer.overlongLines == 1)
    }

    @Test func overlongLineIsCountedOnceHoweverLong() {
        let huge = String(repeating: "Z", count: 5_000)
        for chunk in [1, 7, 128, 129, 5_000, 10_000] {
            let (lines, framer) = Self.frame(Array((huge + "\n2.5\n").utf8), chunkSize: chunk)
            #expect(lines == [Array("2.5".utf8)], "chunk \(chunk)")
            #expect(framer.overlongLines == 1, "chunk \(chunk)")
        }
    }

    @Test func crlfSplitAcrossChunks() {
        var framer = LineFramer()
        var lines: [String] = []
        framer.append(contentsOf: Array("2.51\r".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines.isEmpty, "no line before its newline")
        framer.append(contentsOf: Array("\n2.52\r".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        framer.append(contentsOf: Array("\n".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["2.51", "2.52"])
        #expect(!framer.hasPartialLine)
    }

    @Test func onlyTheLastCarriageReturnIsATerminator() {
        let (lines, _) = Self.frame(Array("a\rb\r\n\r\r\n".utf8), chunkSize: 1)
        #expect(lines == [Array("a\rb".utf8), Array("\r".utf8)])
    }

    @Test func emptyLinesAreSkippedSilently() {
        let (lines, framer) = Self.frame(Array("\n\r\n\n\r\n".utf8), chunkSize: 2)
        #expect(lines.isEmpty)
        #expect(framer.overlongLines == 0)
    }

    @Test func resetDropsAPartialLine() {
        var framer = LineFramer()
        var lines: [String] = []
        framer.append(contentsOf: Array("$VOLT,17,17".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(framer.hasPartialLine)
        framer.reset()
        #expect(!framer.hasPartialLine)
        framer.append(contentsOf: Array("2.5\n".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["2.5"], "the half frame from before the reset must not be glued to the next line")
    }

    @Test func resetWhileDiscardingAnOverlongLine() {
        var framer = LineFramer()
        var lines: [String] = []
        framer.append(contentsOf: Array(Self.overlong200.utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(framer.overlongLines == 1)
        framer.reset()
        framer.append(contentsOf: Array("3.3\n".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["3.3"], "after a reset the next line is a fresh line, not the tail of the discarded one")
        #expect(framer.overlongLines == 1)
    }

    @Test func customLimit() {
        let (lines, framer) = Self.frame(Array("abcd\nabcde\nab\r\nabcd\r\n".utf8), chunkSize: 2, maxLineLength: 4)
        #expect(lines == [Array("abcd".utf8), Array("ab".utf8), Array("abcd".utf8)])
        #expect(framer.overlongLines == 1)
    }

    @Test("byte by byte or whole, a stream gives the same scored samples", arguments: [1, 2, 7, 61, 4096, Int.max])
    func samplesDoNotDependOnChunking(chunk: Int) {
        var bytes: [UInt8] = []
        for (i, v) in Bench.quiet(seconds: 40, seed: 3).enumerated() {
            bytes += Array((i == 250 ? "\u{FF}\u{00}junk\r\n" : "").utf8)
            bytes += Array((Bench.voltLine(seq: UInt32(i), volts: i == 300 ? v + 0.5 : v) + (i % 2 == 0 ? "\r\n" : "\n")).utf8)
        }
        func run(_ size: Int) -> ([DeviceStream.Output], StreamCounters) {
            var framer = LineFramer()
            var stream = DeviceStream(device: "bench", config: .default)
            var outputs: [DeviceStream.Output] = []
            var line = 0
            var start = 0
            while start < bytes.count {
                let end = size >= bytes.count - start ? bytes.count : start + size
                framer.append(contentsOf: bytes[start..<end]) { l in
                    // The receive time is the line's, as the recorder keeps it.
                    outputs.append(stream.ingest(line: l, receivedAtMs: Bench.startMs + Int64(line) * 100))
                    line += 1
                }
                start = end
            }
            return (outputs, stream.counters)
        }
        let whole = run(Int.max)
        let chunked = run(chunk)
        #expect(chunked.0 == whole.0)
        #expect(chunked.1 == whole.1)
        #expect(whole.0.count == 401)
        #expect(whole.1.invalid.syntax == 1)
        let spikes = whole.0.filter { if case .result(let r) = $0 { r.kinds.contains(.spike) } else { false } }
        #expect(spikes.count == 1)
    }

    @Test func overlongLinesReachTheStreamCountersAsTooLong() {
        var stream = DeviceStream(device: "bench", config: .default)
        var framer = LineFramer()
        var results = 0
        var t = Bench.startMs
        for chunk in [Array(Self.stream[..<100]), Array(Self.stream[100...])] {
            framer.append(contentsOf: chunk) { line in
                if case .result = stream.ingest(line: line, receivedAtMs: t) { results += 1 }
                t += 100
            }
        }
        stream.countOverlong(framer.overlongLines)
        #expect(stream.counters.invalid.tooLong == 3)
        #expect(stream.counters.invalid[.tooLong] == 3)
        // Four samples (three $VOLT and "2.5"); the garbage is a syntax error and the two
        // 128-digit lines parse as numbers far beyond any voltage.
        #expect(results == 4)
        #expect(stream.counters.frames == 4)
        #expect(stream.counters.hellos == 1)
        #expect(stream.counters.invalid.syntax == 1)
        #expect(stream.counters.invalid.outOfRange == 2)
        #expect(stream.counters.invalid.total == 6)
    }
}
