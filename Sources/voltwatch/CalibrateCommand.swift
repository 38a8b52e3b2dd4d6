#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import VoltAgent
import VoltCore

struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibrate a stream with two known values or a divider's resistors, and write it to the settings file.",
        discussion: """
            Readings come from the running agent (`voltwatch run` holds the serial port), \
            through its /ws. The stream's entry in the settings file gets the calibration and, \
            when given, its name, unit and limits; its other fields are kept. Nothing is \
            written until the end: q or Ctrl-D at any prompt (or Ctrl-C) stops without writing. \
            The agent applies the file when it re-reads it: `sudo systemctl reload voltwatch`, \
            or `kill -HUP <pid of voltwatch run>`.

            Two known values (the default): a live line shows the reading at the pin and what \
            it reads as now. Apply a known value (a bench supply, or the battery as your \
            multimeter reads it), type that value and press Enter: the next --samples readings \
            are averaged into the first point. Apply a second value, well apart from the first, \
            and do the same. The line through the two points is the calibration; the live line \
            then shows the value under it, and you are asked for a name and a unit (Enter keeps \
            the current ones) unless --name and --unit give them.

            A divider (--divider TOP,BOTTOM): nothing to measure. TOP is the resistor from the \
            input to the pin, BOTTOM the one from the pin to ground, in ohms (100k and 4k7 \
            work): value = (TOP + BOTTOM) / BOTTOM × pin. The live value under it is shown when \
            the agent can be reached; it is written either way.

            STREAM is the stream id results carry in `device`: <device> for a board with one \
            signal, <device>/<channel> (A0 to A5) for a channel of a $VOLTS board. The agent's \
            /api/status lists them.

            Examples:
              A 12 V battery on A0 behind a 100k/10k divider (its 14.8 V reads 1.35 V):
                voltwatch calibrate arduino-uno-85736323838351E0C1A1/A0 \\
                  --divider 100k,10k --name "House battery" --unit V --min 11.8 --max 14.8

              Two points: a bench supply on A1's input, set to 11 V, then to 22 V:
                voltwatch calibrate arduino-uno-85736323838351E0C1A1/A1
                  live: pin 1.000 V, reads 1.000 V now
                  Apply the first known value, then type it in V and press Enter: 11
                  ...  (set the supply to 22 V; wait for the live line to settle)
                  Apply the second known value, then type it in V and press Enter: 22
                  calibration: value = 11 × pin (V)

              A current sensor, values typed in amps; an agent that wants a token:
                voltwatch calibrate board/A2 --unit A --name "Panel current" \\
                  --agent http://gateway:5000 --token-file /etc/voltwatch/token

            Exit status: 0 written; 1 stopped at a prompt (nothing written); 64 bad options; \
            69 the agent or the stream could not be reached; 73 the file could not be written; \
            77 the agent refused the token; 78 the settings file is invalid.
            """
    )

    @Argument(help: ArgumentHelp("The stream, as results name it: <device> or <device>/<channel>.", valueName: "stream"))
    var stream: String

    @Option(help: ArgumentHelp("The running agent's address (it serves /ws there).", valueName: "url"))
    var agent = AgentEndpoint.defaultAgent

    @Option(help: ArgumentHelp("The agent's token, if it requires one (also $\(ServerOptions.tokenEnvironmentVariable)).", valueName: "token"))
    var token: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the agent's token from this file.", valueName: "path"))
    var tokenFile: String?

    @OptionGroup var settings: SettingsOption

    @Option(help: ArgumentHelp("A divider in front of the pin instead of measuring: top,bottom ohms (100000,10000 or 100k,10k).",
                               valueName: "top,bottom"))
    var divider: String?

    @Option(help: ArgumentHelp("The stream's name (default: ask; Enter keeps the current one).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("The unit of the values (default: ask; Enter keeps the current one, else V).", valueName: "unit"))
    var unit: String?

    @Option(help: ArgumentHelp("Lower limit in the stream's unit (out_of_range below it).", valueName: "x"))
    var min: Double?

    @Option(help: ArgumentHelp("Upper limit in the stream's unit (out_of_range above it).", valueName: "y"))
    var max: Double?

    @Option(help: ArgumentHelp("Readings averaged for each point.", valueName: "n"))
    var samples = 10

    func validate() throws {
        if let problem = AgentSettings.streamIDProblem(stream) { throw ValidationError("\(stream): \(problem)") }
        if let divider, DividerOhms.parse(divider) == nil {
            throw ValidationError("--divider \(divider): give TOP,BOTTOM in ohms, e.g. 100000,10000 or 100k,10k (bottom above 0)")
        }
        if !(1...1_000).contains(samples) { throw ValidationError("--samples must be from 1 to 1000, got \(samples)") }
        if AgentEndpoint(agent) == nil {
            throw ValidationError("--agent \(agent): give the agent's address, e.g. http://127.0.0.1:5000")
        }
        if token != nil && tokenFile != nil { throw ValidationError("give either --token or --token-file, not both") }
        if let tokenFile {
            let token: String
            do {
                token = try ServerOptions.readToken(tokenFile)
            } catch {
                throw ValidationError("--token-file: \(error)")
            }
            if token.isEmpty { throw ValidationError("--token-file: \(tokenFile) holds no token") }
        }
    }

    func run() async throws {
        let stream = AgentSettings.canonicalStreamID(stream)
        let path = AgentSettingsFile.writablePath(settings.path)
        let current = try SettingsOption.load(path)
        let flags = ChannelUpdate(name: name, unit: unit, min: min, max: max)
        do {
            _ = try current.updating(stream: stream, with: flags)
        } catch {
            // Said before anything is measured, not after.
            StandardError.write("calibrate: the options do not fit \(stream)'s entry in \(path):\n"
                + error.issues.map { "  - \($0)\n" }.joined())
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        if let problem = Self.unwritable(path) {
            // Said before anything is measured, not after.
            StandardError.write("calibrate: cannot write \(path): \(problem). Give --settings FILE, or run it as a user who may write there.\n")
            throw ExitCode(ExitStatus.cannotCreate)
        }
        let entry = current.entry(forStream: stream)
        let endpoint = AgentEndpoint(agent)!
        let url = endpoint.webSocketURL(token: resolvedToken())

        let console = LiveConsole()
        let events = CalibrateEvents()
        events.connect(url: url)
        events.readInput()
        events.tick()
        var session = CalibrateSession(stream: stream, unit: unit ?? entry?.unit ?? ChannelSettings.defaultUnit, console: console, events: events)

        let label = entry?.name.map { " (\($0))" } ?? ""
        let calibration: Calibration
        do {
            if let divider, let ohms = DividerOhms.parse(divider) {
                calibration = ohms.calibration
                console.say("Divider for \(stream)\(label): \(ReadableNumber.format(ohms.top)) Ω over \(ReadableNumber.format(ohms.bottom)) Ω, "
                    + "\(ReadableNumber.formula(calibration)).")
                console.say("Settings file: \(path)")
                session.preview = (calibration, "with the divider")
                do {
                    try await session.start()
                    console.say(session.liveText())
                } catch {
                    session.goOnWithoutAgent("\(error)")
                    console.say("Could not show a live value: \(error.explanation(agent: agent, stream: stream))")
                    console.say("The calibration is written all the same.")
                }
            } else {
                console.say("Calibrating \(stream)\(label) with two known values, \(samples) readings each.")
                console.say("Now: \(ReadableNumber.formula(entry?.calibration ?? .identity)). Settings file: \(path)")
                try await session.start()
                calibration = try await session.twoPoints(samples: samples)
                console.say("  calibration: \(ReadableNumber.formula(calibration)) (\(session.unit))")
                session.preview = (calibration, "with the new calibration")
            }
            var update = flags
            update.calibration = calibration
            if name == nil {
                let shown = entry?.name.map { "[\($0)] (Enter keeps it)" } ?? "(Enter for none)"
                update.name = try await session.askText("Name for \(stream) \(shown): ") { answer in
                    Self.problem(of: ChannelUpdate(name: answer), for: stream, in: current)
                }
            }
            if unit == nil {
                update.unit = try await session.askText("Unit [\(session.unit)] (Enter keeps it): ") { answer in
                    Self.problem(of: ChannelUpdate(unit: answer), for: stream, in: current)
                }
            }
            console.finish()
            try write(update, stream: stream, to: path, console: console)
            for line in AgentProcesses.reloadAdvice(written: path, endpoint: endpoint) { console.say(line) }
        } catch let stop as CalibrateStop {
            console.finish()
            StandardError.write("calibrate: \(stop.explanation(agent: agent, stream: stream))\ncalibrate: nothing was written.\n")
            throw ExitCode(stop.exitStatus)
        }
    }

    /// Loads the file again (it may have changed while the person measured), applies the
    /// update and saves it atomically.
    private func write(_ update: ChannelUpdate, stream: String, to path: String, console: LiveConsole) throws {
        let written: (settings: AgentSettings, key: String)
        do {
            written = try AgentSettingsFile.load(path).updating(stream: stream, with: update)
        } catch {
            StandardError.write("\(error.description)\ncalibrate: nothing was written.\n")
            throw ExitCode(ConfigError.exitCode)
        }
        do {
            try AgentSettingsFile.save(written.settings, to: path)
        } catch {
            StandardError.write("calibrate: cannot write \(path): \(error.description)\ncalibrate: nothing was written.\n")
            throw ExitCode(ExitStatus.cannotCreate)
        }
        let entry = written.settings.channels[written.key]!
        let named = entry.name.map { ", name \"\($0)\"" } ?? ""
        let limits = [entry.min.map { "min \(ReadableNumber.format($0))" }, entry.max.map { "max \(ReadableNumber.format($0))" }]
            .compactMap { $0 }.joined(separator: ", ")
        console.say("wrote \(written.key) to \(path): \(ReadableNumber.formula(entry.calibration)), unit \(entry.unit)\(named)"
            + (limits.isEmpty ? "" : ", \(limits)"))
    }

    /// Why a name or unit cannot go into the file, in the agent's words; nil when it can.
    private static func problem(of update: ChannelUpdate, for stream: String, in settings: AgentSettings) -> String? {
        do {
            _ = try settings.updating(stream: stream, with: update)
            return nil
        } catch {
            return error.issues.map { $0.message }.joined(separator: "; ")
        }
    }

    /// Why the file at `path` cannot be replaced (a new file renamed over it, so its
    /// directory must be writable); nil when it can.
    private static func unwritable(_ path: String) -> String? {
        let directory = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        guard access(directory, W_OK) != 0 else { return nil }
        return errno == ENOENT ? "the directory \(directory) does not exist" : "the directory \(directory) is not writable for you"
    }

    /// `--token`, else `--token-file` (read in ``validate()``), else `$VOLTWATCH_TOKEN`.
    private func resolvedToken() -> String? {
        if let token { return token }
        if let tokenFile { return try? ServerOptions.readToken(tokenFile) }
        return ServerOptions.environmentToken()
    }
}
