import ArgumentParser
import Logging
import VoltHistory
import VoltAgent
import VoltCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Score recorded files offline, exactly as the live agent would have.",
        discussion: """
            Reads, detecting the format of each file by itself:
              - the agent's recordings (voltwatch run --record):
                <epoch_ms><TAB><line as received>
              - plain serial captures: one $VOLT/$HELLO frame or bare number per line
                (times come from the frames' uptime, or one sample period apart)
              - CSV with a header naming a time column (timestamp or timestamp_ms:
                epoch seconds, epoch milliseconds or ISO 8601 such as
                2014-04-01 00:00:00) and a value column (voltage or value); an optional
                label column (0/1) adds precision, recall and F1 to the summary.

            A file named - is standard input (results named "stdin" unless --device is given; \
            with --out-dir, written to stdin.jsonl).

            Writes one anomaly_result JSON object per sample: to standard output, or with \
            --out-dir one <input name>.jsonl per input (files are then scored in parallel). A \
            summary goes to standard error. Lines that do not fit a file's format are reported \
            with file and line, skipped, and make the exit status 65, as does a file with nothing \
            to score (empty, or every line refused); unreadable files 66; a bad configuration 78.

            Examples:
              voltwatch replay day.rec > day.jsonl
              voltwatch replay --out-dir out/ bench/*.csv
              voltwatch replay --speed 10 day.rec      ten times real time
              ssh gateway cat day.rec | voltwatch replay -
              voltwatch replay --db day.sqlite day.rec > /dev/null   then: voltwatch serve --db day.sqlite

            A recording keeps the names, units and calibrations in effect when it was made, so \
            a replayed day shows the values seen live; --settings FILE replaces them (to try a \
            new calibration on old data). A board's channels ($VOLTS frames) are scored \
            separately and named <device>/<channel>.
            """
    )

    @Argument(help: "Recordings, serial captures or CSV files to score (- for standard input).", completion: .file())
    var files: [String]

    @Option(name: .customLong("out-dir"), help: ArgumentHelp("Write <input name>.jsonl per input into this directory instead of standard output.", valueName: "dir"))
    var outDir: String?

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("settings"), help: ArgumentHelp(
        "Names, units and calibrations to apply instead of those a recording carries (the settings file format of run --settings).",
        valueName: "file"))
    var settingsPath: String?

    @Flag(help: "Score as fast as the CPU allows (the default for files).")
    var fast = false

    @Option(help: ArgumentHelp("Pace the output by the file's timestamps, N times real time.", valueName: "N"))
    var speed: Double?

    @Option(help: ArgumentHelp("Device name to put in results (default: the device a recording names in its header, else the input's file name without extension).", valueName: "name"))
    var device: String?

    @Option(help: ArgumentHelp("Files scored at once with --out-dir (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Also write the results into this history database (made if absent), to browse with `voltwatch serve --db FILE`.", valueName: "file"))
    var db: String?

    @Flag(name: .shortAndLong, help: "No summary or progress on standard error.")
    var quiet = false

    func validate() throws {
        if fast && speed != nil {
            throw ValidationError("--fast and --speed exclude each other: --fast scores as fast as possible, --speed N paces by the file's timestamps.")
        }
        if let speed, !(speed > 0 && speed.isFinite) {
            throw ValidationError("--speed must be a positive number (1 is real time, 10 ten times faster); got \(speed).")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if files.filter({ $0 == FileReplay.standardInput }).count > 1 {
            throw ValidationError("- (standard input) can be given only once: it can be read only once.")
        }
    }

    func run() async throws {
        let resolved = try config.resolve()
        let settings = try settingsPath.map { try SettingsOption.load($0) }
        if let outDir {
            var info = stat()
            if stat(outDir, &info) != 0 {
                guard mkdir(outDir, 0o755) == 0 || errno == EEXIST else {
                    StandardError.write("replay: cannot create --out-dir \(outDir): \(String(cString: strerror(errno)))\n")
                    throw ExitCode(ExitStatus.cannotCreate)
                }
            } else if (info.st_mode & S_IFMT) != S_IFDIR {
                StandardError.write("replay: --out-dir \(outDir) exists and is not a directory\n")
                throw ExitCode(ExitStatus.cannotCreate)
            }
        }
        let history = db.map { HistoryRecorder(options: .init(path: $0), logger: Logger(label: "voltwatch.replay")) }
        if let history, let error = history.health.snapshot.error {
            StandardError.write("replay: --db: \(error)\n")
            throw ExitCode(ExitStatus.cannotCreate)
        }
        let clock = ContinuousClock()
        let started = clock.now
        var total = ReplayReport()
        let progress = !quiet && StandardError.isTerminal
        let jobs = self.jobs ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

        if let outDir {
            let tasks = files.map { file in
                FileReplay(input: file, output: outDir + "/" + Self.outputName(for: file),
                           device: device, stem: Self.stem(of: file), config: resolved.config,
                           settings: settings, speed: speed, progress: progress && (jobs == 1 || files.count == 1),
                           history: history)
            }
            total = await Self.runAll(tasks, jobs: jobs)
        } else {
            let stdout = OutputFile.standardOutput(capacity: speed == nil ? 1 << 20 : 0)
            for file in files {
                let task = FileReplay(input: file, output: nil, device: device, stem: Self.stem(of: file),
                                      config: resolved.config, settings: settings, speed: speed, progress: progress,
                                      history: history)
                total.add(task.run(into: stdout))
            }
            stdout.close()
            if let failure = stdout.failure { total.writeFailures.append(failure) }
        }

        if let history {
            history.flush(final: true)
            if let error = history.health.snapshot.error {
                total.writeFailures.append("replay: --db: \(error)")
            }
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if !quiet { StandardError.write(total.text(seconds: seconds)) }
        if total.unreadable > 0 { throw ExitCode(ExitStatus.noInput) }
        if !total.writeFailures.isEmpty { throw ExitCode(ExitStatus.cannotCreate) }
        if total.errorCount > 0 || !total.unusable.isEmpty { throw ExitCode(ExitStatus.dataError) }
    }

    /// Scores files on up to `jobs` threads; each file is independent (its own scorer).
    static func runAll(_ tasks: [FileReplay], jobs: Int) async -> ReplayReport {
        await withTaskGroup(of: ReplayReport.self) { group in
            var total = ReplayReport()
            var next = 0
            while next < min(jobs, tasks.count) {
                let task = tasks[next]
                group.addTask { task.run() }
                next += 1
            }
            for await report in group {
                total.add(report)
                if next < tasks.count {
                    let task = tasks[next]
                    group.addTask { task.run() }
                    next += 1
                }
            }
            return total
        }
    }

    static func stem(of path: String) -> String {
        if path == FileReplay.standardInput { return "stdin" }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func outputName(for path: String) -> String { stem(of: path) + ".jsonl" }
}
