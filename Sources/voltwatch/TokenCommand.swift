import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Show the agent's access token, or make a new one.",
        discussion: """
            The installed service requires a token (`--token-file /etc/voltwatch/token`): the \\
            dashboard asks for it, apps send it as `Authorization: Bearer TOKEN` or \\
            `?token=TOKEN`. install.sh makes one; this shows it, or makes a new one with \\
            --rotate (then restart the service, and sign in again everywhere).

            The file is readable by root and the service's group only (0640, root:voltwatch).

            Examples:
              sudo voltwatch token                 show it, and how to sign in
              sudo voltwatch token --rotate        a new one; the old one stops working on restart
            """
    )

    @Option(help: ArgumentHelp("The token file.", valueName: "file"))
    var file = "/etc/voltwatch/token"

    @Flag(help: "Make a new token (a first one when the file does not exist yet is made anyway).")
    var rotate = false

    @Flag(help: "Print only the token.")
    var quiet = false

    @Option(help: ArgumentHelp("The service's group, which may read the file.", valueName: "group"))
    var group = "voltwatch"

    func run() throws {
        var token: String?
        if !rotate, access(file, F_OK) == 0 {
            do {
                token = try ServerOptions.readToken(file)
            } catch {
                StandardError.write("token: cannot read \(file): \(error) (run as root: sudo voltwatch token)\n")
                throw ExitCode(ExitStatus.noInput)
            }
        }
        let made = token == nil
        if token == nil {
            let fresh = Self.generate()
            do {
                try Self.write(fresh, to: file, group: group)
            } catch {
                StandardError.write("token: cannot write \(file): \(error)\n")
                throw ExitCode(ExitStatus.cannotCreate)
            }
            token = fresh
        }
        guard let token else { return }
        if quiet {
            print(token)
            return
        }
        print(token)
        StandardError.write("""
            \(made ? "made a new token in \(file)" : "the token in \(file)")
            Sign in: open http://<gateway>:5000/ and paste it when the dashboard asks (it remembers it on that device);
            apps send it as 'Authorization: Bearer <token>' or '?token=<token>'.
            \(made && rotate ? "Restart the agent to use it: sudo systemctl restart voltwatch\n" : "")
            """)
    }

    /// 32 random bytes from the kernel, base64url without padding: 43 characters that survive
    /// URLs, headers and shells unquoted.
    static func generate() -> String {
        // The system generator is the kernel's getrandom(2) on Linux: fit for secrets.
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[(buffer >> bits) & 63])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (6 - bits)) & 63]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes the token with mode 0640, group `group` when it exists and we may set it,
    /// replacing the file atomically.
    static func write(_ token: String, to path: String, group: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError(errno) }
        defer { close(fd) }
        let bytes = Array((token + "\n").utf8)
        guard writeAll(fd, bytes) else {
            unlink(temporary)
            throw SystemError(errno)
        }
        if getuid() == 0, let entry = getgrnam(group) { _ = fchown(fd, 0, entry.pointee.gr_gid) }
        _ = fchmod(fd, 0o640)
        fsync(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SystemError(code)
        }
    }
}

/// An errno, said in words.
struct SystemError: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
}
