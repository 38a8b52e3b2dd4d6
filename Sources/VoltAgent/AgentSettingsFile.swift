#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import VoltCore

/// Finds, reads and writes the settings file (names, units, calibrations of the streams): the
/// file I/O the pure ``AgentSettings`` leaves out.
///
/// Unlike `model_config.json`, a missing settings file is normal: a board nobody has named or
/// calibrated yet reads volts at the pin. `voltwatch calibrate` creates it.
public enum AgentSettingsFile {
    /// Looked for when no path is given: the working copy first, then the installed location.
    public static let searchPath = ["config/settings.json", "/etc/voltwatch/settings.json"]

    /// The file to use: `path`, else the first of ``searchPath`` that exists, else nil.
    public static func locate(_ path: String?) -> String? {
        if let path { return path }
        return searchPath.first { access($0, F_OK) == 0 }
    }

    /// Where `voltwatch calibrate` writes when no path is given: an existing file of the
    /// search path, else the installed location when its directory exists (a gateway), else
    /// the working copy's.
    public static func writablePath(_ path: String?) -> String {
        if let found = locate(path) { return found }
        return access("/etc/voltwatch", W_OK) == 0 ? searchPath[1] : searchPath[0]
    }

    /// The settings in `path` (or found by ``locate(_:)``); empty when there is no file (unless
    /// `mustExist`). A file that exists but cannot be read or does not validate is an error
    /// naming each problem.
    public static func load(_ path: String?, mustExist: Bool = false) throws(ConfigError) -> AgentSettings {
        guard let file = locate(path) else { return .empty }
        let bytes: [UInt8]
        do {
            bytes = try readFile(file, limit: 1 << 20)
        } catch {
            if error.errno == ENOENT && !mustExist { return .empty }
            throw ConfigError(issues: [.init(key: nil, message: error.description)], source: file)
        }
        return try AgentSettings.parse(json: bytes, source: file)
    }

    /// Writes `settings` to `path` atomically (a temporary file renamed over it), so the agent
    /// never reads half a file on reload.
    public static func save(_ settings: AgentSettings, to path: String) throws(FileReadError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileReadError(path: temporary, errno: errno) }
        let bytes = Array(settings.jsonText().utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temporary)
                throw FileReadError(path: temporary, errno: code)
            }
            written += n
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileReadError(path: temporary, errno: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileReadError(path: path, errno: code)
        }
    }
}
