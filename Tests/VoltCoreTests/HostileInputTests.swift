import Testing
@testable import VoltCore

/// Whatever arrives on the wire — noise from a floating pin, a board at the wrong baud rate,
/// binary junk — the core never crashes, never scores junk as a sample, and accounts for every
/// line: each one is a sample, a hello, or counted as invalid.
@Suite struct HostileInputTests {
    @Test("random bytes mixed with valid frames", arguments: 0..<40)
    func everyLineIsAccountedFor(seed: UInt64) {
        var rng = SplitMix64(seed: seed &+ 1000)
        var stream: [UInt8] = []
        var validFrames = 0
        for i in 0..<200 {
            switch rng.next() % 4 {
            case 0:
                stream += Array(FrameParser.sentence("VOLT,\(i),\(i * 100),512,2.502").utf8) + [0x0A]
                validFrames += 1
            case 1:
                // Junk of any byte value, newlines included, up to 300 bytes.
                for _ in 0..<(rng.next() % 300) { stream.append(UInt8(truncatingIfNeeded: rng.next())) }
            case 2:
                // A valid frame with one byte flipped: must not be scored as that frame.
                var frame = Array(FrameParser.sentence("VOLT,\(i),\(i * 100),512,2.502").utf8)
                let at = Int(rng.next() % UInt64(frame.count))
                frame[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
                stream += frame + [0x0A]
            default:
                stream += Array("\r\n\n$VOLT,*\r\n$$$$\n\u{0}\u{7F}\n".utf8)
            }
        }
        var framer = LineFramer()
        var device = DeviceStream(device: "hostile", config: .default)
        var lines = 0
        var results = 0
        var t: Int64 = 1_700_000_000_000
        stream.withUnsafeBufferPointer { bytes in
            framer.append(bytes) { line in
                lines += 1
                t += 100
                if case .result(let r) = device.ingest(line: line, receivedAtMs: t) {
                    results += 1
                    #expect(r.anomalyScore >= 0 && r.anomalyScore <= 1)
                    #expect(r.voltage.isFinite)
                }
            }
        }
        device.countOverlong(framer.overlongLines)
        let counters = device.counters
        #expect(counters.frames == results)
        #expect(counters.frames + counters.hellos + counters.invalid.total == lines + framer.overlongLines)
        // Every intact frame got through (junk may also parse as legacy numbers: at least).
        #expect(results >= validFrames)
    }
}
