import Logging
import ServiceLifecycle
import UnixSignals
import VoltCore
import VoltSerial

/// SIGHUP (`systemctl reload voltwatch`): re-reads `model_config.json` and puts it in force
/// without closing the serial port or dropping a client.
///
/// A file that does not validate is refused with the reason (naming the key) in the log and
/// in `systemctl status`; the configuration in force stays. Around the reload systemd hears
/// `RELOADING=1` (with `MONOTONIC_USEC`, which systemd ≥ 253 wants) and then `READY=1`, even
/// when the new file was refused: systemd only needs to know the reload ended.
struct ConfigReloader: Service {
    /// The trapped SIGHUPs; trapping starts before the group runs (see ``Agent/run()``), so a
    /// SIGHUP right after `READY=1` cannot kill the process with the default action.
    let hangups: UnixSignalsSequence
    /// The file to re-read; nil when the agent started on built-in defaults.
    let path: String?
    let live: LiveConfig
    let sink: any AgentEventSink
    let notify: NotifySocket?
    let status: StatusSink?
    /// Clients served now, for the status line after the reload.
    let clients: @Sendable () -> Int?
    let logger: Logger

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// One reload; what happened, for the log and tests.
    @discardableResult
    func reload() -> ReloadOutcome {
        send([.reloading, .monotonicNow(microseconds: MonotonicTime.microseconds()), .status("reloading configuration")])
        let outcome = ReloadOutcome.decide(path: path, current: live.current) { path throws(ConfigError) in
            try ModelConfigFile.load(path)
        }
        switch outcome {
        case .applied(let config, let source, _):
            live.replace(with: config)
            sink.publish(.configReloaded(config, source: source))
            status?.setNote(nil)
            logger.notice("\(outcome.description)")
        case .unchanged:
            status?.setNote(nil)
            logger.notice("\(outcome.description)")
        case .rejected, .nothingToReload:
            status?.setNote(outcome.shortNote)
            logger.error("\(outcome.description)")
        }
        send([.ready, .status(status?.line(clients: clients()) ?? "running")])
        return outcome
    }

    private func send(_ fields: [NotifyMessage.Field]) {
        if let failure = notify?.send(NotifyMessage(fields)) { logger.warning("\(failure)") }
    }
}
