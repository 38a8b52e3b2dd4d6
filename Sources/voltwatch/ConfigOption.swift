import ArgumentParser
import VoltAgent
import VoltCore

/// `--config FILE`, shared by every command that scores: one search order, one error path
/// (the problems on standard error, exit status 78), whichever command reads it.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp(
        "model_config.json to score with (default: config/model_config.json, then /etc/voltwatch/model_config.json, then built-in defaults).",
        valueName: "file"))
    var path: String?

    /// The configuration in effect and where it came from.
    struct Resolved {
        var config: ModelConfig
        /// A path, or "built-in defaults", for logs and `/api/model`.
        var source: String
        /// The file to read again on reload; nil when built-in defaults are in effect.
        var reloadPath: String?
    }

    /// Loads the configuration, or prints why it is invalid and exits with EX_CONFIG (78).
    func resolve() throws -> Resolved {
        do {
            let resolved = try ModelConfigFile.resolve(path)
            let usedFile = path != nil || resolved.source != ModelConfigFile.builtInDefaults
            return Resolved(config: resolved.config, source: resolved.source, reloadPath: usedFile ? resolved.source : nil)
        } catch {
            StandardError.write(error.description + "\n")
            throw ExitCode(ConfigError.exitCode)
        }
    }
}
