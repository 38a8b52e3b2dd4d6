import HummingbirdCore
import NIOHTTP1

/// What a WebSocket handshake gets, decided from the request head alone.
enum UpgradeVerdict: Sendable {
    /// Upgrade, speaking `kind`; the token is checked after the upgrade, so the client hears why
    /// it was refused (`/ws`: an `error` event and close 1008; Socket.IO: `44`).
    case upgrade(ClientKind, ClientCredentials, upgradingFrom: String?)
    /// Answer with this status and a JSON error instead.
    case refuse(HTTPResponseStatus, String)
}

extension VoltServer {
    func upgradeVerdict(_ head: HTTPRequestHead) -> UpgradeVerdict {
        let uri = URI(head.uri)
        let kind: ClientKind
        var pollingSID: String?
        switch uri.path {
        case "/ws":
            kind = .webSocket
        case "/socket.io/", "/socket.io":
            // Engine.IO v4 over the websocket transport only.
            let query = uri.queryParameters
            guard query["EIO"] == "4", query["transport"] == "websocket" else {
                return .refuse(.badRequest, "Socket.IO is served as Engine.IO v4: "
                    + "connect with EIO=4&transport=websocket, or poll with EIO=4&transport=polling")
            }
            // A polling session moving onto this websocket: it must exist.
            if let sid = query["sid"] {
                guard polling.session(String(sid)) != nil else {
                    return .refuse(.badRequest, "unknown session id: connect again")
                }
                pollingSID = String(sid)
            }
            kind = .socketIO
        default:
            return .refuse(.notFound, "no WebSocket endpoint at \(uri.path): use /ws or /socket.io/")
        }
        if let denial = policy.checkOrigin(head.headers.first(name: "origin")) {
            return .refuse(.forbidden, denial.description)
        }
        return .upgrade(kind, ClientCredentials(
            authorization: head.headers.first(name: "authorization"),
            queryToken: uri.queryParameters["token"].map(String.init)), upgradingFrom: pollingSID)
    }
}

/// What a client presented at the handshake; the Socket.IO auth payload comes later.
struct ClientCredentials: Sendable {
    var authorization: String?
    var queryToken: String?
}
