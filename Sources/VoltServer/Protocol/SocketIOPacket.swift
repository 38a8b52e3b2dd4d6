/// An Engine.IO v4 packet carrying, for `message` packets, a Socket.IO v5 packet: what one
/// text frame on `/socket.io/?EIO=4&transport=websocket` holds.
///
/// Only the subset voltwatch serves is modelled (docs/socketio.md): text packets, the default
/// namespace, events with optional acknowledgement ids. Pure, so the codec is tested byte by byte.
public enum EngineIOPacket: Sendable, Equatable {
    /// `0{...}`: the handshake the server sends first.
    case open(json: String)
    /// `1`: either side closes the Engine.IO session.
    case close
    /// `2`: the server's heartbeat (`2probe` during an upgrade, never used here).
    case ping(payload: String)
    /// `3`: the client's answer to `2`.
    case pong(payload: String)
    /// `4...`: a Socket.IO packet.
    case message(SocketIOPacket)
    /// `5`: upgrade (only meaningful when moving off long-polling).
    case upgrade
    /// `6`: no-op.
    case noop

    /// Parses one text frame.
    public static func parse(_ text: Substring) throws(SocketIOError) -> EngineIOPacket {
        guard let type = text.first else { throw SocketIOError("empty Engine.IO packet") }
        let rest = text.dropFirst()
        switch type {
        case "0": return .open(json: String(rest))
        case "1": return .close
        case "2": return .ping(payload: String(rest))
        case "3": return .pong(payload: String(rest))
        case "4": return .message(try SocketIOPacket.parse(rest))
        case "5": return .upgrade
        case "6": return .noop
        default: throw SocketIOError("unknown Engine.IO packet type '\(type)'")
        }
    }

    public var text: String {
        switch self {
        case .open(let json): "0" + json
        case .close: "1"
        case .ping(let payload): "2" + payload
        case .pong(let payload): "3" + payload
        case .message(let packet): "4" + packet.text
        case .upgrade: "5"
        case .noop: "6"
        }
    }
}

/// A Socket.IO v5 packet, without the Engine.IO `4` in front.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: Character, Sendable {
        case connect = "0"
        case disconnect = "1"
        case event = "2"
        case ack = "3"
        case connectError = "4"
        case binaryEvent = "5"
        case binaryAck = "6"
    }

    public var kind: Kind
    /// `/` for the default namespace.
    public var namespace: String
    /// The acknowledgement id an event asks for, or an ack answers.
    public var id: Int?
    /// The JSON payload text, if any (an object for connect, an array for events and acks).
    public var payload: String?

    public init(_ kind: Kind, namespace: String = "/", id: Int? = nil, payload: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.id = id
        self.payload = payload
    }

    /// `<type>[<attachments>-][<namespace>,][<id>][payload]`.
    public static func parse(_ text: Substring) throws(SocketIOError) -> SocketIOPacket {
        guard let first = text.first, let kind = Kind(rawValue: first) else {
            throw SocketIOError("unknown Socket.IO packet type '\(text.prefix(1))'")
        }
        var rest = text.dropFirst()
        if kind == .binaryEvent || kind == .binaryAck {
            throw SocketIOError("binary events are not supported: send JSON")
        }
        var namespace = "/"
        if rest.first == "/" {
            if let comma = rest.firstIndex(of: ",") {
                namespace = String(rest[..<comma])
                rest = rest[rest.index(after: comma)...]
            } else {
                namespace = String(rest)
                rest = rest[rest.endIndex...]
            }
        }
        var id: Int?
        var digits = rest.startIndex
        while digits < rest.endIndex, rest[digits].isASCII, rest[digits].isNumber { digits = rest.index(after: digits) }
        if digits > rest.startIndex {
            guard let value = Int(rest[rest.startIndex..<digits]) else { throw SocketIOError("acknowledgement id too large") }
            id = value
            rest = rest[digits...]
        }
        return SocketIOPacket(kind, namespace: namespace, id: id, payload: rest.isEmpty ? nil : String(rest))
    }

    public var text: String {
        var out = String(kind.rawValue)
        if namespace != "/" { out += namespace + "," }
        if let id { out += String(id) }
        if let payload { out += payload }
        return out
    }
}

/// A Socket.IO frame voltwatch cannot read, with what was wrong.
public struct SocketIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
