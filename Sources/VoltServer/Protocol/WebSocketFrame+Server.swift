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

/// Frames encoded once for many clients: RFC 6455 §5.2's header (final, text, unmasked) and
/// the payload in one buffer, written as it is to every socket (``EncodedFrameWriter``).
public enum EncodedFrame {
    public static func text(_ text: String) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length + 10)
        buffer.writeInteger(UInt8(0x81))  // FIN, text
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length), endianness: .big)
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length), endianness: .big)
        }
        buffer.writeString(text)
        return buffer
    }

    /// The payload of a frame ``text(_:)`` made: the same storage, past the header.
    public static func payload(of frame: ByteBuffer) -> ByteBuffer {
        guard let second = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self) else { return frame }
        let header = second < 126 ? 2 : second == 126 ? 4 : 10
        return frame.getSlice(at: frame.readerIndex + header, length: frame.readableBytes - header) ?? frame
    }
}
