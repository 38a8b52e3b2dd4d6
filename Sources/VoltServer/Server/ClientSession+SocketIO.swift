import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization
import VoltCore

/// `/socket.io/?EIO=4&transport=websocket`: drives a ``SocketIOSession`` state machine with the
/// frames the client sends and a heartbeat clock, and performs the actions it returns.
extension ClientSession {
    func runSocketIO(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        let configuration = SocketIOSession.Configuration(
            pingIntervalMs: server.configuration.pingIntervalMs,
            pingTimeoutMs: server.configuration.pingTimeoutMs,
            maxPayload: server.configuration.maxClientMessageBytes)
        let session = LockedSession(SocketIOSession(
            engineSID: Self.randomID(), socketSID: Self.randomID(), configuration: configuration, nowMs: Clock.monotonicMs()))
        try await outbound.write(.text(session.withLock { $0.openPacket() }))

        var client: Hub.Client?
        defer { if let client { hub.unregister(client) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            // Heartbeat: `2` every pingInterval; no `3` within pingTimeout closes the connection.
            group.addTask {
                while true {
                    let deadline = session.withLock { $0.nextDeadlineMs }
                    let wait = max(deadline - Clock.monotonicMs(), 1)
                    try await Task.sleep(for: .milliseconds(wait))
                    for action in session.withLock({ $0.tick(nowMs: Clock.monotonicMs()) }) {
                        switch action {
                        case .send(let text): try await outbound.write(.text(text))
                        case .close: channel.close(promise: nil); return
                        default: break
                        }
                    }
                }
            }
            reading: for try await message in inbound.messages(maxSize: server.configuration.maxClientMessageBytes) {
                guard case .text(let text) = message else {
                    try await outbound.write(.text(WireText.socketIO(event: "error",
                        dataJSON: WireText.errorData("binary packets are not supported: send JSON events"))))
                    continue
                }
                var pending = session.withLock { $0.receive(Substring(text)) }
                while !pending.isEmpty {
                    let action = pending.removeFirst()
                    switch action {
                    case .send(let text):
                        try await outbound.write(.text(text))
                    case .close(let reason):
                        logger.debug("socket.io session closed", metadata: ["reason": "\(reason)"])
                        break reading
                    case .authorize(let authToken):
                        if let denial = server.policy.authorize(
                            authorization: credentials.authorization, queryToken: credentials.queryToken, authToken: authToken)
                        {
                            logger.info("refused socket.io client", metadata: ["reason": "\(denial)"])
                            pending = session.withLock { $0.refuse(denial.description) } + pending
                        } else if let registration = try await registerWithHub() {
                            client = registration.client
                            // `40{"sid"}` first, then hello, then the broadcasts: the outlet
                            // writes on the event loop after the writes queued here.
                            for case .send(let text) in session.withLock({ $0.accept() }) {
                                try await outbound.write(.text(text))
                            }
                            registration.client.open(helloText: WireText.socketIO(event: "hello", dataJSON: registration.helloJSON))
                        } else {
                            pending = session.withLock { $0.refuse(Self.tooManyClients) } + pending
                        }
                    case .request(let request, let ackID):
                        let reply = await perform(request, logger: logger)
                        try await outbound.write(.text(WireText.socketIO(event: reply.event, dataJSON: reply.dataJSON)))
                        if let ackID {
                            try await outbound.write(.text(session.withLock { $0.ack(ackID, dataJSON: reply.dataJSON) }))
                        }
                    }
                }
            }
        }
    }

    /// An Engine.IO session id: 20 URL-safe random characters.
    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}

/// The session shared by the reader and the heartbeat task of one connection.
private final class LockedSession: Sendable {
    private let mutex: Mutex<SocketIOSession>
    init(_ session: SocketIOSession) { mutex = Mutex(session) }
    func withLock<T: Sendable>(_ body: (inout SocketIOSession) -> T) -> T { mutex.withLock { body(&$0) } }
}
