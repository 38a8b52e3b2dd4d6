public import NIOCore
public import NIOWebSocket

/// The frames the server sends (RFC 6455 §5): final and unmasked; NIO's encoder writes them.
extension WebSocketFrame {
    /// A text frame carrying `payload` (UTF-8 text).
    public static func serverText(_ payload: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: payload)
    }

    /// A close frame with a status code and a reason, cut to fit the 125-byte control-frame
    /// limit (§5.5) on a character boundary.
    public static func serverClose(code: UInt16, reason: String,
                                   allocator: ByteBufferAllocator = ByteBufferAllocator()) -> WebSocketFrame {
        var reasonText = Substring(reason)
        while reasonText.utf8.count > 123 { reasonText.removeLast() }
        var payload = allocator.buffer(capacity: 2 + reasonText.utf8.count)
        payload.writeInteger(code, endianness: .big)
        payload.writeSubstring(reasonText)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
    }
}
