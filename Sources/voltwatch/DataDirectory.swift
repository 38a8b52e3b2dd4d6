#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where `run` keeps its history when `--data-dir` is not given: systemd's `StateDirectory=`
/// (`$STATE_DIRECTORY`), the installed `/var/lib/voltwatch` when the agent may write there, or
/// the user's data directory, so history is on by default wherever the agent runs.
enum DataDirectory {
    static func resolve(_ given: String?) -> String {
        if let given { return given }
        // Test harnesses and containers point every agent they start at a directory of theirs.
        if let override = environment("VOLTWATCH_DATA_DIR") { return override }
        if let state = environment("STATE_DIRECTORY") {
            // systemd may list several, separated by colons; the first is ours.
            return String(state.split(separator: ":").first ?? Substring(state))
        }
        if access("/var/lib/voltwatch", W_OK) == 0 { return "/var/lib/voltwatch" }
        if let data = environment("XDG_DATA_HOME") { return data + "/voltwatch" }
        if let home = environment("HOME") {
            _ = mkdir(home + "/.local", 0o755)
            _ = mkdir(home + "/.local/share", 0o755)
            return home + "/.local/share/voltwatch"
        }
        return "voltwatch-data"
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
