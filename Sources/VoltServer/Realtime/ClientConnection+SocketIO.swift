import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// `/socket.io/?EIO=4&transport=websocket`: drives a ``SocketIOSession`` with the client's
/// frames and a heartbeat timer on the event loop, and performs the actions it returns.
extension ClientConnection {
    func startSocketIO() {
        // An upgrade from polling keeps the session it has: no open packet, the probe comes first.
        guard upgradingFrom == nil else { return }
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
        receivedSocketIO(String(buffer: text))
    }

    private func receivedSocketIO(_ text: String) {
        guard var session = socketIO else {
            if upgradeBacklog != nil {
                // Sent after `5` while the session is being handed over: kept, in order.
                guard upgradeBacklog!.count < Self.maxWaitingRequests else {
                    close(code: .policyViolation, reason: "too many packets during the upgrade")
                    return
                }
                upgradeBacklog!.append(text)
            } else {
                receivedUpgrade(text)
            }
            return
        }
        let actions = session.receive(Substring(text))
        socketIO = session
        perform(actions)
    }

    /// The upgrade from polling (Engine.IO v4): `2probe` is answered `3probe`; `5` moves the
    /// session here. If the polling session had joined, this connection joins the hub first
    /// (its broadcasts wait in the outbox), then takes what the polling session had not yet
    /// sent, and sends only the broadcasts newer than those: none lost, none twice.
    private func receivedUpgrade(_ text: String) {
        guard let sid = upgradingFrom, let context else { return }
        switch text {
        case "2probe":
            sendText("3probe")
        case "5":
            upgradingFrom = nil
            upgradeBacklog = []
            guard let polling = server.polling.session(sid) else {
                close(code: .normalClosure, reason: "the polling session is gone")
                return
            }
            let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
            polling.eventLoop.submit { polling.value.isJoined }.hop(to: context.eventLoop).assumeIsolated().whenSuccess { joined in
                let this = connection.value
                if joined {
                    guard let ctx = this.context, this.phase == .open,
                          let registration = this.hub.register(this, kind: .socketIO, tally: this.tally, on: ctx.eventLoop)
                    else {
                        this.close(code: .unknown(1013), reason: "too many clients")
                        return
                    }
                    this.registration = registration.client
                    this.coveredThrough = registration.coveredThrough
                }
                polling.eventLoop.submit { polling.value.handOver() }.hop(to: connection.eventLoop).assumeIsolated().whenSuccess { handed in
                    connection.value.adopt(handed)
                }
            }
        default:
            break
        }
    }

    private func adopt(_ handed: PollingSession.HandOver?) {
        guard let handed, phase == .open, let context else {
            close(code: .normalClosure, reason: "the polling session is gone")
            return
        }
        socketIO = handed.io
        appStreams = handed.appStreams
        for text in handed.pending { sendText(text) }
        coveredThrough = max(coveredThrough, handed.lastSequence)
        if registration != nil, outbox.open() { writeWaiting(context) }
        scheduleHeartbeat()
        let backlog = upgradeBacklog ?? []
        upgradeBacklog = nil
        for text in backlog where phase == .open { receivedSocketIO(text) }
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
