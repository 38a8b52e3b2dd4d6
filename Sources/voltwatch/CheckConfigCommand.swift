import ArgumentParser
import VoltAgent
import VoltCore

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a model_config.json and print the configuration in effect.",
        discussion: """
            Prints every key with the value the scorer will use (defaults filled in). On an \
            invalid file it lists each problem with the key it concerns and exits with status \
            78 (EX_CONFIG), the status the service exits with on the same file.
            """
    )

    @Argument(help: "The configuration file to check.", completion: .file())
    var file: String = "config/model_config.json"

    func run() throws {
        do {
            let config = try ModelConfigFile.load(file)
            print(config.jsonText())
            let note = "\(file): ok (threshold \(config.anomalyThreshold), window \(config.windowSize) samples, " +
                "\(config.sampleRate) samples/s, dropout after \(FixedPoint.format(config.dropoutTimeoutMs / 1000, digits: 1)) s)"
            StandardError.write(note + "\n")
        } catch {
            StandardError.write(error.description + "\n")
            throw ExitCode(ConfigError.exitCode)
        }
    }
}
