#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import VoltAgent
import VoltCore

/// The `voltwatch run` processes on this machine, so `voltwatch calibrate` can say which
/// `kill -HUP` applies what it wrote (the agent reads its settings file at start and on
/// SIGHUP), and warn when that agent reads another file.
enum AgentProcesses {
    struct Agent: Equatable {
        var pid: Int32
        /// Its `--port` (5000 when not given).
        var port: Int
        /// Its `--settings`, resolved; nil when not given (it then looks along the search
        /// path from its working directory).
        var settingsFile: String?
    }

    /// Processes whose command line is `.../voltwatch run ...`, by ascending pid.
    static func running() -> [Agent] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var agents: [Agent] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), pid != getpid() else { continue }
            let arguments = commandLine(pid)
            guard arguments.count >= 2, arguments[0] == "voltwatch" || arguments[0].hasSuffix("/voltwatch"), arguments[1] == "run" else {
                continue
            }
            agents.append(Agent(
                pid: pid, port: option("--port", in: arguments).flatMap { Int($0) } ?? 5000,
                settingsFile: option("--settings", in: arguments).map { resolve($0, cwdOf: pid) }))
        }
        return agents.sorted { $0.pid < $1.pid }
    }

    private static func commandLine(_ pid: Int32) -> [String] {
        guard var bytes = try? readFile("/proc/\(pid)/cmdline", limit: 64 * 1024) else { return [] }
        if bytes.last == 0 { bytes.removeLast() }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The last value given to `option` (`--port 5001` or `--port=5001`).
    private static func option(_ option: String, in arguments: [String]) -> String? {
        var value: String?
        for (i, argument) in arguments.enumerated() {
            if argument == option, i + 1 < arguments.count { value = arguments[i + 1] }
            if argument.hasPrefix(option + "=") { value = String(argument.dropFirst(option.count + 1)) }
        }
        return value
    }

    /// `path` as the agent sees it (relative to its working directory), symlinks resolved.
    private static func resolve(_ path: String, cwdOf pid: Int32) -> String {
        canonical(path.hasPrefix("/") ? path : "/proc/\(pid)/cwd/\(path)") ?? path
    }

    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// How to make the agent at `endpoint` read `written`: the service's reload, and the
    /// `kill -HUP` of the local agent serving that port when there is one.
    static func reloadAdvice(written: String, endpoint: AgentEndpoint) -> [String] {
        guard endpoint.isLocal else {
            return ["The agent at \(endpoint.host) is on another machine: it applies this calibration once the file is "
                        + "its settings file there (/etc/voltwatch/settings.json) and it re-reads it (sudo systemctl reload voltwatch)."]
        }
        let agents = running().filter { $0.port == endpoint.effectivePort }
        let direct = agents.count == 1 ? "kill -HUP \(agents[0].pid)" : "kill -HUP <pid of voltwatch run>"
        var lines = ["The agent applies it when it re-reads its settings:",
                     "  sudo systemctl reload voltwatch    (the service), or  \(direct)"]
        let target = canonical(written) ?? written
        for agent in agents {
            if let file = agent.settingsFile, file != target {
                lines.append("Note: the voltwatch run on port \(agent.port) (pid \(agent.pid)) reads --settings \(file), not this file.")
            }
        }
        return lines
    }
}
