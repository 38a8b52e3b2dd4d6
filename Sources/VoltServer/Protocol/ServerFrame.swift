public import NIOCore

/// WebSocket frames as the server sends them (RFC 6455 §5.2): final, unmasked, header and
/// payload in one buffer.
///
/// The server writes whole frames itself instead of passing `WebSocketFrame` values through
/// NIO's encoder: a broadcast is framed once and the same bytes go to every client in a single
/// `write(2)`, where the encoder would write a separate header buffer for each client.
public enum ServerFrame {
    /// RFC 6455 opcodes the server sends.
    public enum Opcode: UInt8, Sendable {
        case text = 0x1
        case close = 0x8
        case ping = 0x9
        case pong = 0xA
    }

    /// A text frame holding `text`.
    public static func text(_ text: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: headerLength(payload: length) + length)
        writeHeader(.text, payloadLength: length, into: &buffer)
        buffer.writeString(text)
        return buffer
    }

    /// A control frame (ping, pong) carrying `payload`, at most 125 bytes.
    public static func control(_ opcode: Opcode, payload: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var payload = payload
        precondition(payload.readableBytes <= 125, "control frames carry at most 125 bytes")
        var buffer = allocator.buffer(capacity: 2 + payload.readableBytes)
        writeHeader(opcode, payloadLength: payload.readableBytes, into: &buffer)
        buffer.writeBuffer(&payload)
        return buffer
    }

    /// A close frame with a status code and a reason, cut to fit the 125-byte control limit
    /// on a character boundary.
    public static func close(code: UInt16, reason: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var reasonBytes = Substring(reason)
        while reasonBytes.utf8.count > 123 { reasonBytes.removeLast() }
        var buffer = allocator.buffer(capacity: 4 + reasonBytes.utf8.count)
        writeHeader(.close, payloadLength: 2 + reasonBytes.utf8.count, into: &buffer)
        buffer.writeInteger(code, endianness: .big)
        buffer.writeSubstring(reasonBytes)
        return buffer
    }

    static func headerLength(payload length: Int) -> Int {
        length < 126 ? 2 : length <= 0xFFFF ? 4 : 10
    }

    static func writeHeader(_ opcode: Opcode, payloadLength length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode.rawValue)
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length), endianness: .big)
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length), endianness: .big)
        }
    }
}
