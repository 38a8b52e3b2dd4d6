#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import VoltCore

/// Finds and reads `model_config.json`: the file I/O the pure ``ModelConfig`` leaves out.
public enum ModelConfigFile {
    /// Where the configuration is looked for when no path is given: the working copy first
    /// (a developer's checkout), then the installed location.
    public static let searchPath = ["config/model_config.json", "/etc/voltwatch/model_config.json"]
    /// The source named when no file was found.
    public static let builtInDefaults = "built-in defaults"


    /// Loads `path`, or the first file of ``searchPath`` that exists, or the built-in
    /// defaults when none does. Returns the configuration and where it came from.
    public static func resolve(_ path: String?) throws(ConfigError) -> (config: ModelConfig, source: String) {
        if let path { return (try load(path), path) }
        for candidate in searchPath where access(candidate, F_OK) == 0 {
            return (try load(candidate), candidate)
        }
        return (.default, builtInDefaults)
    }

    /// Reads and validates one file. A missing or unreadable file is a configuration error too:
    /// the service must not start on defaults the user did not ask for.
    public static func load(_ path: String) throws(ConfigError) -> ModelConfig {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path, limit: 1 << 20)
        } catch {
            throw ConfigError(issues: [.init(key: nil, message: error.description)], source: path)
        }
        return try ModelConfig.parse(json: bytes, source: path)
    }
}

/// Why a file could not be read, with what to do about it.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var tooLarge: Bool

    public init(path: String, errno: Int32, tooLarge: Bool = false) {
        self.path = path
        self.errno = errno
        self.tooLarge = tooLarge
    }

    public var description: String {
        if tooLarge { return "\(path) is too large" }
        let reason = String(cString: strerror(errno))
        switch errno {
        case ENOENT: return "cannot read \(path): no such file"
        case EACCES: return "cannot read \(path): permission denied — check its mode and owner"
        case EISDIR: return "cannot read \(path): it is a directory"
        default: return "cannot read \(path): \(reason)"
        }
    }
}

/// Reads a whole (small) file.
public func readFile(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileReadError(path: path, errno: errno)
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
        if out.count > limit { throw FileReadError(path: path, errno: EFBIG, tooLarge: true) }
    }
    return out
}
