import ArgumentParser
import Logging
import VoltAgent
import VoltCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse a stored history (the dashboard and the API) without a board.",
        discussion: """
            Serves the dashboard and /api/history, /api/anomalies, /api/episode and /api/summary \\
            from a history database, read-only: the agent's own (copied from the gateway's \\
            /var/lib/voltwatch/history.sqlite) or one made by `voltwatch replay --db`.

            Examples:
              voltwatch replay --db day.sqlite day.rec > /dev/null
              voltwatch serve --db day.sqlite --port 5001      then open http://localhost:5001/
            """
    )

    @Option(help: ArgumentHelp("The history database to serve.", valueName: "file"), completion: .file())
    var db: String

    @OptionGroup var config: ConfigOption

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let logger = AgentLogging.bootstrap(level: .info)
        AgentMetrics.bootstrap()
        let resolved = try config.resolve()
        var options = AgentOptions(config: resolved.config, configSource: resolved.source)
        server.apply(to: &options)
        do {
            logger.info("serving \(db) read-only", metadata: ["port": "\(options.port)"])
            try await HistoryBrowser.run(path: db, options: options, logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch {
            StandardError.write("serve: cannot open \(db): \(error)\n")
            throw ExitCode(ExitStatus.noInput)
        }
    }
}
