import VoltCore

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
