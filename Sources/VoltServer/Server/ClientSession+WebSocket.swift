import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// `/ws`: `{"event": NAME, "data": {...}}` text messages both ways.
extension ClientSession {
    func runWebSocket(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        if let denial = server.policy.authorize(authorization: credentials.authorization, queryToken: credentials.queryToken) {
            logger.info("refused /ws client", metadata: ["reason": "\(denial)"])
            try await outbound.write(.text(WireText.webSocket(event: "error", dataJSON: WireText.errorData(denial.description))))
            try await outbound.close(.policyViolation, reason: "unauthorized")
            return
        }
        guard let registration = try await registerWithHub() else {
            try await outbound.write(.text(WireText.webSocket(event: "error", dataJSON: WireText.errorData(Self.tooManyClients))))
            try await outbound.close(.unknown(1013), reason: "too many clients")
            return
        }
        let client = registration.client
        defer { hub.unregister(client) }
        client.open(helloText: WireText.webSocket(event: "hello", dataJSON: registration.helloJSON))
        for try await message in inbound.messages(maxSize: server.configuration.maxClientMessageBytes) {
            let reply: (event: String, dataJSON: String)
            switch message {
            case .text(let text):
                switch Result(catching: { () throws(ClientMessageError) in try ClientRequest.parse(webSocketText: Array(text.utf8)) }) {
                case .success(let request): reply = await perform(request, logger: logger)
                case .failure(let error): reply = ("error", WireText.errorData(error.message))
                }
            case .binary:
                reply = ("error", WireText.errorData("binary messages are not supported: send JSON text"))
            }
            try await outbound.write(.text(WireText.webSocket(event: reply.event, dataJSON: reply.dataJSON)))
        }
    }
}
