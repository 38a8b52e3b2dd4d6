import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The open long-polling sessions, by Engine.IO `sid`, capped so that opening sessions (which
/// costs no token: the token comes with the namespace connect) cannot take the gateway's memory.
final class PollingSessions: Sendable {
    private struct State {
        var sessions: [String: NIOLoopBound<PollingSession>] = [:]
        /// Places taken by sessions still being opened, so concurrent opens cannot pass the cap.
        var opening = 0
    }
    private let state = Mutex(State())
    /// Most sessions at once, joined or not.
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { state.withLock { $0.sessions.count } }

    /// Opens a session on one of the group's loops; nil at ``limit``. Returns the open packet.
    func open(server: VoltServer, logger: Logger) async throws -> String? {
        let sid = ClientConnection.randomID()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reserved = state.withLock { state -> Bool in
            guard state.sessions.count + state.opening < limit else { return false }
            state.opening += 1
            return true
        }
        guard reserved else { return nil }
        return try await loop.submit { [self] in
            let session = PollingSession(loop: loop, server: server, engineSID: sid, logger: logger)
            session.onClose = { [weak self] in self?.forget(sid) }
            state.withLock {
                $0.opening -= 1
                $0.sessions[sid] = NIOLoopBound(session, eventLoop: loop)
            }
            return session.open()
        }.get()
    }

    /// Runs `body` on the session's loop; nil when no session has that sid.
    func with<T: Sendable>(_ sid: String, _ body: @escaping @Sendable (PollingSession) -> EventLoopFuture<T>) async throws -> T? {
        guard let bound = state.withLock({ $0.sessions[sid] }) else { return nil }
        return try await bound.eventLoop.flatSubmit { body(bound.value) }.get()
    }

    /// The session with that sid, to reach on its loop.
    func session(_ sid: String) -> NIOLoopBound<PollingSession>? {
        state.withLock { $0.sessions[sid] }
    }

    private func forget(_ sid: String) {
        _ = state.withLock { $0.sessions.removeValue(forKey: sid) }
    }

    /// Graceful shutdown: every session closes, so no poll keeps the server waiting.
    func closeAll() {
        let all = state.withLock { Array($0.sessions.values) }
        for bound in all {
            bound.eventLoop.execute { bound.value.close(reason: "server shutting down") }
        }
    }
}
