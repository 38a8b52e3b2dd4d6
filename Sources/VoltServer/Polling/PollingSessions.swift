import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The open long-polling sessions, by Engine.IO `sid`, capped so that opening sessions (which
/// costs no token: the token comes with the namespace connect) cannot take the gateway's memory.
final class PollingSessions: Sendable {
    private let sessions = Mutex<[String: NIOLoopBound<PollingSession>]>([:])
    /// Most sessions at once, joined or not.
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { sessions.withLock { $0.count } }

    /// Opens a session on one of the group's loops; nil at ``limit``. Returns the open packet.
    func open(server: VoltServer, logger: Logger) async throws -> String? {
        let sid = ClientConnection.randomID()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reserved = sessions.withLock { sessions -> Bool in
            guard sessions.count < limit else { return false }
            return true
        }
        guard reserved else { return nil }
        return try await loop.submit { [self] in
            let session = PollingSession(loop: loop, server: server, engineSID: sid, logger: logger)
            session.onClose = { [weak self] in self?.forget(sid) }
            sessions.withLock { $0[sid] = NIOLoopBound(session, eventLoop: loop) }
            return session.open()
        }.get()
    }

    /// Runs `body` on the session's loop; nil when no session has that sid.
    func with<T: Sendable>(_ sid: String, _ body: @escaping @Sendable (PollingSession) -> EventLoopFuture<T>) async throws -> T? {
        guard let bound = sessions.withLock({ $0[sid] }) else { return nil }
        return try await bound.eventLoop.flatSubmit { body(bound.value) }.get()
    }

    /// The session with that sid, to reach on its loop.
    func session(_ sid: String) -> NIOLoopBound<PollingSession>? {
        sessions.withLock { $0[sid] }
    }

    private func forget(_ sid: String) {
        _ = sessions.withLock { $0.removeValue(forKey: sid) }
    }

    /// Graceful shutdown: every session closes, so no poll keeps the server waiting.
    func closeAll() {
        let all = sessions.withLock { Array($0.values) }
        for bound in all {
            bound.eventLoop.execute { bound.value.close(reason: "server shutting down") }
        }
    }
}
