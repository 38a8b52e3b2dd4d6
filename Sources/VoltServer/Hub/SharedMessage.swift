public import NIOCore
import VoltCore

/// One broadcast, encoded once for every client: the `/ws` text (`{"event":...,"data":...}`)
/// and the Socket.IO text (`42["event",data]`). Each client's queue holds this value; the
/// buffers are shared copy-on-write, so a thousand clients cost a thousand reference counts,
/// not a thousand encodings or copies.
public struct SharedMessage: Sendable {
    public var webSocket: ByteBuffer
    public var socketIO: ByteBuffer

    public init(event: String, dataJSON: String) {
        webSocket = ByteBuffer(string: WireText.webSocket(event: event, dataJSON: dataJSON))
        socketIO = ByteBuffer(string: WireText.socketIO(event: event, dataJSON: dataJSON))
    }

    /// The text for a client speaking `kind`.
    public func buffer(for kind: ClientKind) -> ByteBuffer {
        kind == .webSocket ? webSocket : socketIO
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
