public import NIOCore
import VoltCore

/// One broadcast, encoded and framed once for every client: the `/ws` frame
/// (`{"event":...,"data":...}`) and the Socket.IO frame (`42["event",data]`), each a complete
/// WebSocket text frame (``ServerFrame``). Each client's outbox holds this value; the buffers
/// are shared copy-on-write, so a thousand clients cost a thousand reference counts and a
/// thousand `write(2)` calls, not a thousand encodings or copies.
public struct SharedMessage: Sendable {
    /// Where the message stands among everything the hub published. A client that joins gets
    /// the recent results in its `hello`; broadcasts numbered before that are not sent again.
    public let sequence: UInt64
    public let webSocketFrame: ByteBuffer
    public let socketIOFrame: ByteBuffer

    public init(event: String, dataJSON: String, sequence: UInt64 = 0) {
        self.sequence = sequence
        webSocketFrame = ServerFrame.text(WireText.webSocket(event: event, dataJSON: dataJSON))
        socketIOFrame = ServerFrame.text(WireText.socketIO(event: event, dataJSON: dataJSON))
    }

    private init(sequence: UInt64, webSocketFrame: ByteBuffer, socketIOFrame: ByteBuffer) {
        self.sequence = sequence
        self.webSocketFrame = webSocketFrame
        self.socketIOFrame = socketIOFrame
    }

    /// The same message in buffers of its own (not shared with this one).
    public func copy() -> SharedMessage {
        SharedMessage(sequence: sequence, webSocketFrame: ByteBuffer(buffer: webSocketFrame),
                      socketIOFrame: ByteBuffer(buffer: socketIOFrame))
    }

    /// The frame for a client speaking `kind`.
    public func frame(for kind: ClientKind) -> ByteBuffer {
        kind == .webSocket ? webSocketFrame : socketIOFrame
    }
}

/// Which endpoint a client connected through, which decides how events are framed.
public enum ClientKind: String, Sendable {
    /// `/ws`: `{"event": NAME, "data": {...}}`.
    case webSocket = "ws"
    /// `/socket.io/`: `42["NAME", {...}]`.
    case socketIO = "socket.io"
}

/// The two framings of an event, as text.
public enum WireText {
    public static func webSocket(event: String, dataJSON: String) -> String {
        "{\"event\":\"" + event + "\",\"data\":" + dataJSON + "}"
    }

    public static func socketIO(event: String, dataJSON: String) -> String {
        "42[\"" + event + "\"," + dataJSON + "]"
    }

    public static func text(_ kind: ClientKind, event: String, dataJSON: String) -> String {
        kind == .webSocket ? webSocket(event: event, dataJSON: dataJSON) : socketIO(event: event, dataJSON: dataJSON)
    }

    /// `{"message": ...}`: the data of an `error` event.
    public static func errorData(_ message: String) -> String {
        "{\"message\":" + JSONText.string(message) + "}"
    }
}
