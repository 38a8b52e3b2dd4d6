import ArgumentParser
import VoltAgent
import VoltCore

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a model_config.json (or a settings file) and print what is in effect.",
        discussion: """
            Prints every key with the value the scorer will use (defaults filled in). On an \
            invalid file it lists each problem with the key it concerns and exits with status \
            78 (EX_CONFIG), the status the service exits with on the same file.

            With --settings FILE it checks the settings file too (names, units, calibrations, \
            limits, boards) and prints each stream's calibration as a formula.
            """
    )

    @Argument(help: "The configuration file to check.", completion: .file())
    var file: String = "config/model_config.json"

    @Option(help: ArgumentHelp("Also check this settings file (run --settings).", valueName: "file"))
    var settings: String?

    func run() throws {
        if let settings {
            do {
                let parsed = try AgentSettingsFile.load(settings, mustExist: true)
                for (stream, entry) in parsed.channels.sorted(by: { $0.key < $1.key }) {
                    var line = "\(stream): \(entry.name.map { "\"\($0)\", " } ?? "")\(entry.unit), \(entry.calibration.formula)"
                    if entry.min != nil || entry.max != nil {
                        line += ", limits \(entry.min.map { JSONText.number($0) } ?? "-") to \(entry.max.map { JSONText.number($0) } ?? "-") \(entry.unit)"
                    }
                    StandardError.write(line + "\n")
                }
                for (board, sampling) in parsed.boards.sorted(by: { $0.key < $1.key }) {
                    StandardError.write("\(board): sample \(AnalogChannel.setText(sampling.channels))\(sampling.periodMs.map { " every \($0) ms" } ?? "")\n")
                }
                StandardError.write("\(settings): ok (\(parsed.channels.count) stream(s), \(parsed.boards.count) board(s))\n")
            } catch {
                StandardError.write(error.description + "\n")
                throw ExitCode(ConfigError.exitCode)
            }
        }
        do {
            let config = try ModelConfigFile.load(file)
            // Every key with the value in effect (stdout, JSON), and where each came from (stderr).
            var given = Set<String>()
            if let bytes = try? readFile(file, limit: 1 << 20), case .object(let object)? = try? JSONValue.parse(bytes) {
                given = Set(object.keys)
            }
            let values = config.effectiveValues(givenKeys: given)
            print("{\n" + values.map { "  \"\($0.key)\": \($0.value)" }.joined(separator: ",\n") + "\n}")
            let width = values.map(\.key.count).max() ?? 0
            for entry in values {
                let padded = entry.key + String(repeating: " ", count: width - entry.key.count)
                StandardError.write("  \(padded)  \(entry.value)  (\(entry.source))\n")
            }
            let note = "\(file): ok (threshold \(config.anomalyThreshold), window \(config.windowSize) samples, " +
                "\(config.sampleRate) samples/s, dropout after \(FixedPoint.format(config.dropoutTimeoutMs / 1000, digits: 1)) s; " +
                "a reading is rare when seen fewer than three times in \(FixedPoint.format(config.historySamples / config.sampleRate, digits: 0)) s " +
                "of history, \(FixedPoint.format(config.rarityBarDecades, digits: 2)) decades at this rate" +
                (config.keepsHabits ? ", and not when the last four days held it \(ModelConfig.habitCount) times)" : ")")
            StandardError.write(note + "\n")
        } catch {
            StandardError.write(error.description + "\n")
            throw ExitCode(ConfigError.exitCode)
        }
    }
}
