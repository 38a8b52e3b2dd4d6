import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import VoltServer

/// A broadcast is encoded once and every client is written the same bytes through NIO's own
/// WebSocket encoder; the end-to-end tests read the frames with real client libraries.
@Suite struct BroadcastTests {
    static let webSocketText = "{\"event\":\"anomaly_result\",\"data\":{\"a\":1}}"
    static let socketIOText = "42[\"anomaly_result\",{\"a\":1}]"

    @Test func encodesEachFramingOnce() {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 7)
        #expect(String(buffer: broadcast.text(for: .webSocket)) == Self.webSocketText)
        #expect(String(buffer: broadcast.text(for: .socketIO)) == Self.socketIOText)
        #expect(broadcast.sequence == 7)
    }

    @Test func aCopyForAnotherEventLoopHasStorageOfItsOwn() {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 7)
        let copy = broadcast.copy()
        #expect(copy.webSocketText == broadcast.webSocketText && copy.sequence == 7)
        copy.webSocketText.withUnsafeReadableBytes { a in
            broadcast.webSocketText.withUnsafeReadableBytes { b in #expect(a.baseAddress != b.baseAddress) }
        }
    }

    /// Two clients on one loop: each gets a valid unmasked text frame (RFC 6455 §5.2), and the
    /// payload each socket is handed is the broadcast's own buffer, not a copy.
    @Test func everyClientIsWrittenTheSamePayloadBuffer() throws {
        let broadcast = Broadcast(event: "anomaly_result", dataJSON: "{\"a\":1}", sequence: 1)
        var payloadAddresses: [UnsafeRawPointer?] = []
        for _ in 0..<2 {
            let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
            try channel.writeAndFlush(WebSocketFrame.serverText(broadcast.text(for: .webSocket))).wait()
            let header = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let payload = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let length = Self.webSocketText.utf8.count
            #expect(Array(header.readableBytesView) == [0x81, UInt8(length)])  // FIN + text, mask bit clear
            #expect(String(buffer: payload) == Self.webSocketText)
            payloadAddresses.append(payload.withUnsafeReadableBytes { $0.baseAddress })
            _ = try channel.finish()
        }
        let original = broadcast.webSocketText.withUnsafeReadableBytes { $0.baseAddress }
        #expect(payloadAddresses == [original, original])
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
