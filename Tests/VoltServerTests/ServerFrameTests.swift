import NIOCore
import Testing
@testable import VoltServer

/// Server frames are written by hand (one buffer per broadcast), so their bytes are checked
/// against RFC 6455 §5.2 here; the end-to-end tests read them with real client libraries.
@Suite struct ServerFrameTests {
    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536])
    func textFrameHeaderFitsThePayloadLength(length: Int) {
        let text = String(repeating: "v", count: length)
        let frame = ServerFrame.text(text)
        let bytes = Array(frame.readableBytesView)
        #expect(bytes[0] == 0x81)  // FIN, text
        switch length {
        case ..<126:
            #expect(bytes[1] == UInt8(length))  // mask bit clear: servers never mask
            #expect(bytes.count == 2 + length)
        case ...0xFFFF:
            #expect(bytes[1] == 126)
            #expect(Int(bytes[2]) << 8 | Int(bytes[3]) == length)
            #expect(bytes.count == 4 + length)
        default:
            #expect(bytes[1] == 127)
            #expect(bytes[2..<10].reduce(0) { $0 << 8 | Int($1) } == length)
            #expect(bytes.count == 10 + length)
        }
    }

    @Test func closeFrameCarriesTheCodeAndACutReason() {
        let frame = ServerFrame.close(code: 1009, reason: String(repeating: "é", count: 100))
        let bytes = Array(frame.readableBytesView)
        #expect(bytes[0] == 0x88)
        #expect(Int(bytes[1]) == bytes.count - 2)
        #expect(bytes.count - 2 <= 125)  // control frames are at most 125 bytes
        #expect(UInt16(bytes[2]) << 8 | UInt16(bytes[3]) == 1009)
        // Cut on a character boundary: the reason is still valid UTF-8.
        #expect(String(validating: bytes[4...], as: UTF8.self) != nil)
    }

    @Test func pongEchoesThePingPayload() {
        let frame = ServerFrame.control(.pong, payload: ByteBuffer(string: "abc"))
        #expect(Array(frame.readableBytesView) == [0x8A, 3] + Array("abc".utf8))
    }
}
