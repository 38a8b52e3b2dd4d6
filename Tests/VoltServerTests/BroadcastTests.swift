import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import VoltServer

/// A broadcast is encoded once, as a complete WebSocket frame per framing, and every client is
/// written that same buffer; the end-to-end tests read the frames with real client libraries.
@Suite struct BroadcastTests {
    static let webSocketText = "{\"event\":\"anomaly_result\",\"data\":{\"a\":1}}"
    static let socketIOText = "42[\"anomaly_result\",{\"a\":1}]"

    @Test func encodesEachFramingOnceAsAnUnmaskedTextFrame() {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 7)
        for (kind, text) in [(ClientKind.webSocket, Self.webSocketText), (.socketIO, Self.socketIOText)] {
            // FIN + text opcode, mask bit clear (servers never mask), length, then the payload.
            #expect(Array(broadcast.frame(for: kind).readableBytesView) == [0x81, UInt8(text.utf8.count)] + Array(text.utf8))
        }
        #expect(broadcast.sequence == 7)
    }

    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536])
    func frameHeaderFitsThePayloadLength(length: Int) {
        let bytes = Array(EncodedFrame.text(String(repeating: "v", count: length)).readableBytesView)
        #expect(bytes[0] == 0x81)
        switch length {
        case ..<126:
            #expect(bytes[1] == UInt8(length) && bytes.count == 2 + length)
        case ...0xFFFF:
            #expect(bytes[1] == 126 && Int(bytes[2]) << 8 | Int(bytes[3]) == length && bytes.count == 4 + length)
        default:
            #expect(bytes[1] == 127 && bytes[2..<10].reduce(0) { $0 << 8 | Int($1) } == length && bytes.count == 10 + length)
        }
    }

    @Test(arguments: [0, 125, 126, 65_535, 65_536])
    func thePayloadOfAnEncodedFrameIsItsTextInTheSameStorage(length: Int) {
        let text = String(repeating: "v", count: length)
        let frame = EncodedFrame.text(text)
        let payload = EncodedFrame.payload(of: frame)
        #expect(String(buffer: payload) == text)
        #expect(frame.withUnsafeReadableBytes { $0.baseAddress! + (frame.readableBytes - length) }
            == payload.withUnsafeReadableBytes { $0.baseAddress })
    }

    @Test func aCopyForAnotherEventLoopHasStorageOfItsOwn() {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 7)
        let copy = broadcast.copy()
        #expect(copy.webSocketFrame == broadcast.webSocketFrame && copy.sequence == 7)
        copy.webSocketFrame.withUnsafeReadableBytes { a in
            broadcast.webSocketFrame.withUnsafeReadableBytes { b in #expect(a.baseAddress != b.baseAddress) }
        }
    }

    /// Two clients: each socket is handed the broadcast's own buffer, not a copy, and a frame the
    /// connection wrote through NIO's encoder before it (its `hello`) leaves first.
    @Test func everyClientIsWrittenTheSameBufferAfterWhatItWroteBefore() throws {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 1)
        let original = broadcast.webSocketFrame.withUnsafeReadableBytes { $0.baseAddress }
        for _ in 0..<2 {
            let writer = EncodedFrameWriter()
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(writer)
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
            try channel.writeAndFlush(WebSocketFrame.serverText(ByteBuffer(string: "hello"))).wait()
            writer.write(broadcast.frame(for: .webSocket))
            writer.flush()
            let helloHeader = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let helloPayload = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(Array(helloHeader.readableBytesView) == [0x81, 5] && String(buffer: helloPayload) == "hello")
            let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(written == broadcast.webSocketFrame)
            #expect(written.withUnsafeReadableBytes { $0.baseAddress } == original)
            _ = try channel.finish()
        }
    }

    @Test func closeFrameCarriesTheCodeAndACutReason() {
        let frame = WebSocketFrame.serverClose(code: 1009, reason: String(repeating: "é", count: 100))
        let bytes = Array(frame.data.readableBytesView)
        #expect(frame.opcode == .connectionClose && frame.fin)
        #expect(bytes.count <= 125)  // control frames carry at most 125 bytes
        #expect(UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == 1009)
        // Cut on a character boundary: the reason is still valid UTF-8.
        #expect(String(validating: bytes[2...], as: UTF8.self) != nil)
    }
}
