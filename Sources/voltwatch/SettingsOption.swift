import ArgumentParser
import VoltAgent
import VoltCore

/// `--settings FILE`: the streams' names, units and calibrations, shared by `run`, `replay`
/// and `calibrate`, with one error path (the problems on standard error, exit status 78).
struct SettingsOption: ParsableArguments {
    @Option(name: .customLong("settings"), help: ArgumentHelp(
        "Settings file naming streams and giving their unit and calibration (default: config/settings.json, then /etc/voltwatch/settings.json; none is fine).",
        valueName: "file"))
    var path: String?

    /// The settings in effect, or exits with EX_CONFIG (78) after printing why not.
    func resolve() throws -> AgentSettings {
        try Self.load(path)
    }

    static func load(_ path: String?) throws -> AgentSettings {
        do {
            return try AgentSettingsFile.load(path)
        } catch {
            StandardError.write(error.description + "\n")
            throw ExitCode(ConfigError.exitCode)
        }
    }
}
