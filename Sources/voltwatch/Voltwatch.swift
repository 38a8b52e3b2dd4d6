import ArgumentParser
import VoltCore

@main
struct Voltwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voltwatch",
        abstract: "Watches a voltage sampled by an Arduino and tells phones and browsers when it misbehaves.",
        discussion: """
            voltwatch finds an Arduino on USB, reads its 100 ms voltage frames, scores every \
            sample with a windowed anomaly scorer (config/model_config.json) and pushes the \
            results over WebSocket. The same binary replays recorded logs offline.

            Quick looks:
              voltwatch replay --out-dir out/ day.rec     score a recording
              voltwatch check-config config/model_config.json
            """,
        version: VoltwatchVersion.string,
        subcommands: [RunCommand.self, ReplayCommand.self, FakeCommand.self, DevicesCommand.self, DoctorCommand.self, CheckConfigCommand.self, CalibrateCommand.self, ServeCommand.self, TokenCommand.self]
    )
}
