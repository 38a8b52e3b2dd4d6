import ArgumentParser
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
            it. Exits 0 when nothing is a problem, 1 otherwise.

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

    func run() throws {
        var probe = DoctorProbe()
        probe.extraPaths = devices
        probe.serviceUserName = serviceUser
        if !ruleDirectories.isEmpty { probe.ruleDirectories = ruleDirectories }
        let findings = Diagnosis.run(probe.gather())
        for finding in findings { print(finding.description) }
        let problems = findings.filter { $0.severity == .problem }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        print(problems == 0 && warnings == 0 ? "\nAll good." : "\n\(problems) problem(s), \(warnings) warning(s).")
        if problems > 0 { throw ExitCode(1) }
    }
}
