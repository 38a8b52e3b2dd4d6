import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// `/ws`: `{"event": NAME, "data": {...}}` text messages both ways. The token comes with the
/// handshake; a refused client gets an `error` event and close code 1008.
extension ClientConnection {
    func startWebSocket() {
        if let denial = server.policy.authorize(authorization: credentials.authorization, queryToken: credentials.queryToken) {
            logger.info("refused /ws client", metadata: ["reason": "\(denial)"])
            sendText(WireText.webSocket(event: "error", dataJSON: WireText.errorData(denial.description)))
            close(code: .policyViolation, reason: "unauthorized")
            return
        }
        guard join(helloText: { WireText.webSocket(event: "hello", dataJSON: $0) }) else {
            sendText(WireText.webSocket(event: "error", dataJSON: WireText.errorData(VoltServer.tooManyClients)))
            close(code: .unknown(1013), reason: "too many clients")
            return
        }
    }

    /// One text message from a `/ws` client: a request, or an `error` saying what was wrong
    /// with it. The connection stays open either way.
    func receivedWebSocket(text: ByteBuffer) {
        do throws(ClientMessageError) {
            enqueue(try ClientRequest.parse(webSocketText: Array(text.readableBytesView)), ackID: nil)
        } catch {
            answer(event: "error", dataJSON: WireText.errorData(error.message), ackID: nil)
        }
    }
}
