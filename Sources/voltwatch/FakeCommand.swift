import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import ServiceLifecycle
import UnixSignals
import VoltAgent
import VoltCore
import VoltSerial

struct FakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake",
        abstract: "Play a fake Arduino on a pty, for demos and tests.",
        discussion: """
            Creates a pseudo-terminal that behaves like the firmware: $HELLO, then a $VOLT frame \
            every 100 ms, from a seeded generator scenario or from a recording/CSV. Prints the \
            pty's path on standard output; point voltwatch run --device at it (or at --link, \
            which stays valid when the simulated unplug makes a new pty).

            Scenarios: normal, spikes, drift, dropout (3 s silences), brownout (sag and \
            reboot), noisy (noise and corrupted lines), mixed (a minute of each).

            Examples:
              voltwatch fake --scenario spikes --link /tmp/voltfake
              voltwatch run --device /tmp/voltfake --print
              voltwatch fake --replay day.rec --speed 10 --loop --link /tmp/voltfake
              voltwatch fake --link /tmp/voltfake --unplug-every 30     unplug every 30 s
            """
    )

    @Option(help: ArgumentHelp("Generator scenario: \(FakeScenario.names).", valueName: "name"))
    var scenario = "normal"

    @Option(help: "Seed of the scenario's random numbers (same seed, same frames).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Play this recording, serial capture or CSV instead of a scenario.", valueName: "file"))
    var replay: String?

    @Option(help: "Multiply real time by this (2 is twice as fast).")
    var speed = 1.0

    @Flag(help: "With --replay: start over at the end of the file.")
    var loop = false

    @Option(help: ArgumentHelp("Keep a symlink to the current pty here.", valueName: "path"))
    var link: String?

    @Option(name: .customLong("period-ms"), help: "Time between frames at speed 1, milliseconds.")
    var periodMs = 100

    @Option(help: ArgumentHelp("Analog channels the board samples, 1 to 6 (A0 up). More than 1 sends $VOLTS frames: A0 plays the scenario, the others are steady rails of their own.", valueName: "n"))
    var channels = 1

    @Option(name: .customLong("unplug-every"), help: ArgumentHelp("Simulate an unplug every N seconds (close the pty, make a new one behind --link).", valueName: "seconds"))
    var unplugEvery: Double?

    @Option(name: .customLong("unplug-for"), help: ArgumentHelp("How long each simulated unplug lasts, seconds.", valueName: "seconds"))
    var unplugFor = 2.0

    /// For the sample period of CSV replays.
    @OptionGroup var config: ConfigOption

    func validate() throws {
        if FakeScenario(rawValue: scenario) == nil {
            throw ValidationError("--scenario \(scenario): unknown; choose one of \(FakeScenario.names)")
        }
        if !(speed > 0 && speed <= 1_000) { throw ValidationError("--speed must be in (0, 1000]; 1 is real time") }
        if periodMs < 1 { throw ValidationError("--period-ms must be at least 1") }
        if !(1...6).contains(channels) { throw ValidationError("--channels must be from 1 to 6 (an Uno's A0-A5); got \(channels)") }
        if channels > 1 && replay != nil { throw ValidationError("--channels applies to scenarios; a --replay file plays the channels it holds") }
        if let unplugEvery, !(unplugEvery > 0) { throw ValidationError("--unplug-every must be positive") }
        if !(unplugFor > 0) { throw ValidationError("--unplug-for must be positive") }
        if loop && replay == nil { throw ValidationError("--loop needs --replay FILE") }
    }

    func run() async throws {
        let logger = AgentLogging.bootstrap(level: .info)
        var options = FakeDevice.Options()
        options.scenario = FakeScenario(rawValue: scenario) ?? .normal
        options.seed = seed
        options.speed = speed
        options.periodMs = periodMs
        options.channels = channels
        options.link = link
        options.loop = loop
        options.unplugEveryMs = unplugEvery.map { Int($0 * 1000) }
        options.unplugForMs = Int(unplugFor * 1000)
        if let replay {
            let model = try config.resolve().config
            do {
                options.replay = try ReplayFeed.load(replay, config: model)
            } catch {
                StandardError.write("fake: \(error.description)\n")
                throw ExitCode(ExitStatus.noInput)
            }
        }
        let device: FakeDevice
        do {
            device = try FakeDevice(options: options, logger: logger)
        } catch {
            StandardError.write("fake: \(error.description)\n")
            throw ExitCode(1)
        }
        // The path on stdout, alone, so scripts can read it: `DEV=$(voltwatch fake ... | head -1)`.
        var line = (link ?? device.ptyPath ?? "") + "\n"
        line.withUTF8 { bytes in StandardOutput.write(bytes) }
        logger.info("fake device ready", metadata: ["pty": "\(device.ptyPath ?? "-")", "scenario": "\(options.replay == nil ? scenario : "replay")"])
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: device)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Unbuffered writes to standard output (the fake's path line must reach a pipe at once).
enum StandardOutput {
    static func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < bytes.count {
            let n = SystemCall.write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
