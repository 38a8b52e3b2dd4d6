import ArgumentParser
import VoltCore
import VoltPublish
import VoltSerial

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Explain why a board is not found or not readable, and how to fix it.",
        discussion: """
            Checks, without opening any port: the USB serial devices udev sees, whether you \
            (and the service user voltwatch, when it exists) may open each node, another \
            program holding a port, ModemManager or brltty running, and whether the udev rule \
            (99-voltwatch.rules) is installed. Each finding comes with the command that fixes \
            it. When the settings file (or --mqtt) names an MQTT broker, also connects to it \
            once with the settings' credentials and TLS files and says whether they were \
            accepted. Exits 0 when nothing is a problem, 1 otherwise.

            Examples:
              voltwatch doctor
              voltwatch doctor --device /dev/ttyUSB0     also check a node discovery does not list
            """
    )

    @Option(name: .customLong("device"), help: ArgumentHelp("Also check this device node.", valueName: "path"))
    var devices: [String] = []

    @Option(name: .customLong("service-user"), help: "The user the service runs as.")
    var serviceUser = "voltwatch"

    @Option(name: .customLong("udev-rules-dir"), help: ArgumentHelp("Where to look for 99-voltwatch.rules (repeatable; default: the directories udev reads).", visibility: .hidden))
    var ruleDirectories: [String] = []

    @OptionGroup var settings: SettingsOption

    @Option(name: .customLong("mqtt"), help: ArgumentHelp("Check this broker (mqtt:// or mqtts://) with the settings' credentials.", valueName: "url"))
    var mqtt: String?

    func run() throws {
        var probe = DoctorProbe()
        probe.extraPaths = devices
        probe.serviceUserName = serviceUser
        if !ruleDirectories.isEmpty { probe.ruleDirectories = ruleDirectories }
        var findings = Diagnosis.run(probe.gather())
        var mqttSettings = try settings.resolve().mqtt
        if let mqtt {
            guard MQTTSettings.endpoint(mqtt) != nil else { throw ValidationError("--mqtt \(mqtt): must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]") }
            if mqttSettings == nil { mqttSettings = MQTTSettings(url: mqtt) } else { mqttSettings!.url = mqtt }
        }
        if let mqttSettings {
            let outcome = MQTTCheck.run(mqttSettings)
            findings.append(Finding(outcome.ok ? .ok : .problem, "MQTT broker", outcome.message, fix: outcome.fix))
        }
        for finding in findings { print(finding.description) }
        let problems = findings.filter { $0.severity == .problem }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        print(problems == 0 && warnings == 0 ? "\nAll good." : "\n\(problems) problem(s), \(warnings) warning(s).")
        if problems > 0 { throw ExitCode(1) }
    }
}
