import VoltCore

/// One Socket.IO client's protocol state: Engine.IO handshake and heartbeat, namespace connect,
/// events. A pure state machine in the style of swift-websocket's `WebSocketStateMachine`:
/// every input returns the actions the driver performs (send a frame, check a token, act on a
/// request, close), so the protocol is tested without a socket.
public struct SocketIOSession: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How often the server sends `2`, milliseconds (Engine.IO `pingInterval`).
        public var pingIntervalMs: Int64
        /// How long the server waits for `3` after a `2`, milliseconds (`pingTimeout`).
        public var pingTimeoutMs: Int64
        /// Largest frame the client may send, bytes (`maxPayload`).
        public var maxPayload: Int

        public init(pingIntervalMs: Int64 = 25_000, pingTimeoutMs: Int64 = 20_000, maxPayload: Int = 16_384) {
            self.pingIntervalMs = pingIntervalMs
            self.pingTimeoutMs = pingTimeoutMs
            self.maxPayload = maxPayload
        }
    }

    public enum Phase: Sendable, Equatable {
        /// Engine.IO is open; the client has not joined the namespace yet.
        case awaitingConnect
        /// `40` sent, waiting for the driver's verdict on the credentials.
        case authorizing
        /// Joined: events flow both ways.
        case connected
        case closed
    }

    public enum Action: Sendable, Equatable {
        /// Send this text frame.
        case send(String)
        /// Check these credentials (the auth payload's `token`, if any), then call
        /// ``accept()`` or ``refuse(_:)``.
        case authorize(authToken: String?)
        /// Act on a client request; answer the ack `ackID` if there is one.
        case request(ClientRequest, ackID: Int?)
        /// Close the connection (after sending anything listed before).
        case close(reason: String)
    }

    public let engineSID: String
    public let socketSID: String
    public let configuration: Configuration
    public private(set) var phase: Phase = .awaitingConnect
    private var lastPingMs: Int64
    private var awaitingPong = false

    public init(engineSID: String, socketSID: String, configuration: Configuration, nowMs: Int64) {
        self.engineSID = engineSID
        self.socketSID = socketSID
        self.configuration = configuration
        self.lastPingMs = nowMs
    }

    /// The Engine.IO open packet, sent as the first frame (websocket) or as the answer to the
    /// first poll; `upgrades` lists the transports a polling client may move to.
    public func openPacket(upgrades: [String] = []) -> String {
        let list = upgrades.map { "\"" + $0 + "\"" }.joined(separator: ",")
        return EngineIOPacket.open(json: "{\"sid\":\"\(engineSID)\",\"upgrades\":[\(list)],\"pingInterval\":\(configuration.pingIntervalMs),"
            + "\"pingTimeout\":\(configuration.pingTimeoutMs),\"maxPayload\":\(configuration.maxPayload)}").text
    }

    /// When ``tick(nowMs:)`` next has something to do.
    public var nextDeadlineMs: Int64 {
        awaitingPong ? lastPingMs + configuration.pingTimeoutMs : lastPingMs + configuration.pingIntervalMs
    }

    /// Heartbeat: sends `2` every interval; closes when `3` does not come back in time.
    public mutating func tick(nowMs: Int64) -> [Action] {
        guard phase != .closed else { return [] }
        if awaitingPong {
            guard nowMs >= lastPingMs + configuration.pingTimeoutMs else { return [] }
            phase = .closed
            return [.close(reason: "ping timeout")]
        }
        guard nowMs >= lastPingMs + configuration.pingIntervalMs else { return [] }
        lastPingMs = nowMs
        awaitingPong = true
        return [.send(EngineIOPacket.ping(payload: "").text)]
    }

    /// One text frame from the client.
    public mutating func receive(_ text: Substring) -> [Action] {
        guard phase != .closed else { return [] }
        let packet: EngineIOPacket
        do {
            packet = try EngineIOPacket.parse(text)
        } catch {
            return protocolError(error.message)
        }
        switch packet {
        case .pong:
            awaitingPong = false
            return []
        case .ping(let payload):
            // Not sent by v4 clients (the server pings), but harmless to answer.
            return [.send(EngineIOPacket.pong(payload: payload).text)]
        case .close:
            phase = .closed
            return [.close(reason: "client closed the session")]
        case .noop, .upgrade:
            return []
        case .open:
            return protocolError("the client may not send an open packet")
        case .message(let message):
            return receive(message)
        }
    }

    private mutating func receive(_ packet: SocketIOPacket) -> [Action] {
        switch packet.kind {
        case .connect:
            guard packet.namespace == "/" else {
                return [.send(message(SocketIOPacket(.connectError, namespace: packet.namespace,
                    payload: "{\"message\":\"Invalid namespace\"}")))]
            }
            guard phase == .awaitingConnect else { return [] }
            var token: String?
            if let payload = packet.payload {
                guard case .object(let fields)? = try? JSONValue.parse(Array(payload.utf8)) else {
                    return [.send(message(SocketIOPacket(.connectError, payload: "{\"message\":\"auth payload must be an object\"}")))]
                }
                if case .string(let t)? = fields["token"] { token = t }
            }
            phase = .authorizing
            return [.authorize(authToken: token)]
        case .disconnect:
            phase = .closed
            return [.close(reason: "client disconnected")]
        case .event:
            guard phase == .connected, packet.namespace == "/" else { return [] }
            guard let payload = packet.payload else { return [sendError("event without payload")] }
            do {
                return [.request(try ClientRequest.parse(socketIOPayload: payload), ackID: packet.id)]
            } catch {
                return [sendError(error.message)]
            }
        case .ack, .connectError, .binaryEvent, .binaryAck:
            return phase == .connected ? [sendError("unexpected \(packet.kind) packet")] : []
        }
    }

    /// The credentials were good: join the namespace.
    public mutating func accept() -> [Action] {
        guard phase == .authorizing else { return [] }
        phase = .connected
        return [.send(message(SocketIOPacket(.connect, payload: "{\"sid\":\"\(socketSID)\"}")))]
    }

    /// The credentials were refused: `44{"message":...}` (the client's `connect_error`), then close.
    public mutating func refuse(_ reason: String) -> [Action] {
        guard phase == .authorizing else { return [] }
        phase = .closed
        return [
            .send(message(SocketIOPacket(.connectError, payload: "{\"message\":" + JSONText.string(reason) + "}"))),
            .close(reason: reason),
        ]
    }

    /// An ack answering event `id` with `dataJSON`: `43<id>[data]`.
    public func ack(_ id: Int, dataJSON: String) -> String {
        message(SocketIOPacket(.ack, id: id, payload: "[" + dataJSON + "]"))
    }

    private mutating func protocolError(_ text: String) -> [Action] {
        if phase == .connected { return [sendError(text)] }
        phase = .closed
        return [.close(reason: text)]
    }

    private func sendError(_ text: String) -> Action {
        .send(WireText.socketIO(event: "error", dataJSON: WireText.errorData(text)))
    }

    private func message(_ packet: SocketIOPacket) -> String {
        EngineIOPacket.message(packet).text
    }
}

extension SocketIOPacket.Kind: CustomStringConvertible {
    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .disconnect: "DISCONNECT"
        case .event: "EVENT"
        case .ack: "ACK"
        case .connectError: "CONNECT_ERROR"
        case .binaryEvent: "BINARY_EVENT"
        case .binaryAck: "BINARY_ACK"
        }
    }
}
