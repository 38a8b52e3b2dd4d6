import Logging
import ServiceLifecycle
import VoltSerial

/// Tells systemd the truth about the agent (`Type=notify`): `READY=1` once the configuration
/// is loaded and the server accepts connections, `WATCHDOG=1` while every working loop
/// reports alive, a `STATUS=` line a person reads, and `STOPPING=1` when shutdown begins.
///
/// Runs only when `$NOTIFY_SOCKET` is set. Placed last in the service group, so on SIGTERM it
/// is the first told to shut down and `STOPPING=1` goes out at once.
struct SystemdNotifier: Service {
    let socket: NotifySocket
    let watchdog: WatchdogSchedule?
    let heartbeats: LoopHeartbeats
    let status: StatusSink
    /// Waits until the server accepts connections (returns at once without a server).
    let readiness: ServerReadiness
    let logger: Logger

    /// How often the status line is refreshed, milliseconds.
    static let statusIntervalMs: Int64 = 2_000

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await cancelWhenGracefulShutdown {
                try await readiness.wait()
                let line = status.line(clients: readiness.clients())
                send([.ready, .status(line)])
                logger.info("told systemd: ready", metadata: ["watchdog": "\(watchdog.map { "ping every \($0.pingIntervalMs) ms" } ?? "off")"])
                try await loop(lastStatus: line)
            }
        } onGracefulShutdown: {
            send([.stopping, .status("stopping")])
        }
    }

    private func loop(lastStatus: String) async throws {
        var lastStatus = lastStatus
        var nextStatus = Int64.min
        var nextPing = Int64.min
        var withheld = false
        while true {
            let now = MonotonicTime.milliseconds()
            if let watchdog, now >= nextPing {
                let stale = heartbeats.stale(staleAfterMs: watchdog.staleAfterMs)
                if stale.isEmpty {
                    send([.watchdog])
                    if withheld { logger.notice("working loops report again; watchdog pings resume") }
                    withheld = false
                } else if !withheld {
                    let names = stale.map { "\($0.name) silent for \($0.silentMs) ms" }.joined(separator: ", ")
                    logger.critical("withholding the watchdog ping so systemd restarts the agent: \(names)")
                    withheld = true
                }
                nextPing = now + watchdog.pingIntervalMs
            }
            if now >= nextStatus {
                let line = status.line(clients: readiness.clients())
                if line != lastStatus {
                    send([.status(line)])
                    lastStatus = line
                }
                nextStatus = now + Self.statusIntervalMs
            }
            let wake = min(nextStatus, watchdog == nil ? Int64.max : nextPing)
            try await Task.sleep(for: .milliseconds(max(1, wake - MonotonicTime.milliseconds())))
        }
    }

    private func send(_ fields: [NotifyMessage.Field]) {
        if let failure = socket.send(NotifyMessage(fields)) { logger.warning("\(failure)") }
    }
}
