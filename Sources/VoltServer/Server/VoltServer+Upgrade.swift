import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Decides, from the handshake alone, whether a request becomes a WebSocket and which protocol
/// it speaks. Requests that are not upgraded reach the router, which explains what to do.
extension VoltServer {
    typealias UpgradeDecision = ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>

    func upgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) -> UpgradeDecision {
        let uri = URI(head.path ?? "/")
        let kind: ClientKind
        switch uri.path {
        case "/ws":
            kind = .webSocket
        case "/socket.io/", "/socket.io":
            // Engine.IO v4 over the websocket transport only.
            let query = uri.queryParameters
            guard query["EIO"] == "4", query["transport"] == "websocket" else { return .dontUpgrade }
            kind = .socketIO
        default:
            return .dontUpgrade
        }
        if let denial = policy.checkOrigin(head.headerFields[.origin]) {
            logger.info("refused WebSocket", metadata: ["reason": "\(denial)"])
            return .dontUpgrade
        }
        let credentials = ClientCredentials(
            authorization: head.headerFields[.authorization],
            queryToken: uri.queryParameters["token"].map(String.init))
        let session = ClientSession(server: self, kind: kind, credentials: credentials, channel: channel)
        return .upgrade([:]) { inbound, outbound, context in
            switch kind {
            case .webSocket:
                try await session.runWebSocket(inbound: inbound, outbound: outbound, logger: context.logger)
            case .socketIO:
                try await session.runSocketIO(inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
    }
}

/// What a client presented at the handshake; the Socket.IO auth payload comes later.
struct ClientCredentials: Sendable {
    var authorization: String?
    var queryToken: String?
}
