import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// `/socket.io/?EIO=4&transport=websocket`: drives a ``SocketIOSession`` with the client's
/// frames and a heartbeat timer on the event loop, and performs the actions it returns.
extension ClientConnection {
    func startSocketIO() {
        let configuration = SocketIOSession.Configuration(
            pingIntervalMs: server.configuration.pingIntervalMs,
            pingTimeoutMs: server.configuration.pingTimeoutMs,
            maxPayload: server.configuration.maxClientMessageBytes)
        let session = SocketIOSession(engineSID: Self.randomID(), socketSID: Self.randomID(),
                                      configuration: configuration, nowMs: Now.monotonicMs)
        socketIO = session
        sendText(session.openPacket())
        scheduleHeartbeat()
    }

    func receivedSocketIO(text: ByteBuffer) {
        guard var session = socketIO else { return }
        let actions = session.receive(Substring(String(buffer: text)))
        socketIO = session
        perform(actions)
    }

    /// Engine.IO heartbeat: `2` every pingInterval; no `3` within pingTimeout closes the
    /// connection. The timer wakes at the session's next deadline.
    private func scheduleHeartbeat() {
        guard phase == .open, let context, let session = socketIO else { return }
        let wait = max(session.nextDeadlineMs - Now.monotonicMs, 1)
        heartbeat = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(wait)) { [self] in
            guard var session = socketIO else { return }
            let actions = session.tick(nowMs: Now.monotonicMs)
            socketIO = session
            perform(actions)
            scheduleHeartbeat()
        }
    }

    private func perform(_ actions: [SocketIOSession.Action]) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            guard phase == .open else { return }
            switch action {
            case .send(let text):
                sendText(text)
            case .close(let reason):
                logger.debug("socket.io session closed", metadata: ["reason": "\(reason)"])
                close(code: .normalClosure, reason: "")
            case .authorize(let authToken):
                pending = authorize(authToken: authToken) + pending
            case .request(let request, let ackID):
                enqueue(request, ackID: ackID)
            }
        }
    }

    /// The namespace connect's verdict: `40{"sid"}` then `hello`, or `44{"message"}` and close.
    private func authorize(authToken: String?) -> ArraySlice<SocketIOSession.Action> {
        guard var session = socketIO else { return [] }
        defer { socketIO = session }
        if let denial = server.policy.authorize(
            authorization: credentials.authorization, queryToken: credentials.queryToken, authToken: authToken)
        {
            logger.info("refused socket.io client", metadata: ["reason": "\(denial)"])
            return session.refuse(denial.description)[...]
        }
        // `40{"sid"}` comes before `hello`.
        let joined = join(welcome: {
            for case .send(let text) in session.accept() { sendText(text) }
        }, helloText: { WireText.socketIO(event: "hello", dataJSON: $0) })
        return joined ? [] : session.refuse(VoltServer.tooManyClients)[...]
    }

    /// An Engine.IO session id: 20 URL-safe random characters.
    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}
