import Logging
import ServiceLifecycle
import UnixSignals
import VoltCore
import VoltSerial

/// SIGHUP (`systemctl reload voltwatch`): re-reads `model_config.json` and the settings file
/// and puts them in force without closing the serial port or dropping a client.
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
    /// The settings file to re-read; nil looks along ``AgentSettingsFile/searchPath``.
    let settingsPath: String?
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

    /// One reload; what happened to the model configuration, for the log and tests (the
    /// settings' fate is logged).
    @discardableResult
    func reload() -> ReloadOutcome {
        send([.reloading, .monotonicNow(microseconds: MonotonicTime.microseconds()), .status("reloading configuration")])
        let outcome = ReloadOutcome.decide(path: path, current: live.current) { path throws(ConfigError) in
            try ModelConfigFile.load(path)
        }
        let settings = reloadSettings()
        var note = outcome.shortNote
        switch outcome {
        case .applied(let config, let source, _):
            live.replace(with: config, settings: settings.changed)
            sink.publish(.configReloaded(config, source: source))
            logger.notice("\(outcome.description)")
        case .unchanged, .nothingToReload, .rejected:
            if let changed = settings.changed {
                live.replace(with: live.current, settings: changed)
                sink.publish(.configReloaded(live.current, source: path ?? ModelConfigFile.builtInDefaults))
            }
            if case .unchanged = outcome {
                logger.notice("\(outcome.description)")
            } else if case .rejected = outcome {
                logger.error("\(outcome.description)")
            } else if settings.changed == nil {
                // Without a configuration file only the settings can change; say why nothing did.
                logger.error("\(outcome.description)")
            } else {
                note = nil
            }
        }
        status?.setNote(note ?? settings.note)
        send([.ready, .status(status?.line(clients: clients()) ?? "running")])
        return outcome
    }

    /// Re-reads the settings file: the new settings when they differ from those in force (nil
    /// otherwise), and a note for `systemctl status` when the file was refused.
    private func reloadSettings() -> (changed: AgentSettings?, note: String?) {
        do {
            let next = try AgentSettingsFile.load(settingsPath)
            guard next != live.settings else { return (nil, nil) }
            if next.corsOrigins != live.settings.corsOrigins {
                logger.notice("cors_origins changed in the settings: it takes effect when the agent restarts")
            }
            logger.notice("reloaded settings from \(AgentSettingsFile.locate(settingsPath) ?? "nowhere"): \(next.channels.count) stream(s) named or calibrated")
            return (next, nil)
        } catch {
            logger.error("settings reload refused, the settings in force stay: \(error.description)")
            return (nil, "last settings reload refused (\(error.issues.compactMap(\.key).first ?? "file unreadable"))")
        }
    }

    private func send(_ fields: [NotifyMessage.Field]) {
        if let failure = notify?.send(NotifyMessage(fields)) { logger.warning("\(failure)") }
    }
}
