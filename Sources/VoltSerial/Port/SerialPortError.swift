/// Why a serial port could not be opened or configured, worded so the user knows what to do.
public struct SerialPortError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The path does not exist (yet): the board is unplugged or the name is wrong.
        case notFound
        /// The service user may not open the device node.
        case permissionDenied
        /// Another program holds the port (flock, TIOCEXCL or EBUSY). `holder` names it when
        /// `/proc` tells us, e.g. "pid 812 (minicom)".
        case busy(holder: String?)
        /// The path is not a terminal (a regular file, a directory).
        case notATerminal
        /// The baud rate has no termios constant.
        case unsupportedBaud(Int)
        /// Any other system error, with the operation that failed.
        case system(operation: String, errno: Int32)
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// Whether trying again later can help: a missing or busy board may come back or be
    /// released; a wrong baud rate or a non-terminal path will not fix itself.
    public var isRetryable: Bool {
        switch kind {
        case .notFound, .busy, .permissionDenied, .system: true
        case .notATerminal, .unsupportedBaud: false
        }
    }

    public var description: String {
        switch kind {
        case .notFound:
            return "cannot open \(path): no such device — is the board plugged in? `voltwatch devices` lists what is connected"
        case .permissionDenied:
            return "cannot open \(path): permission denied — add the service user to the dialout group (sudo usermod -aG dialout USER) and log in again"
        case .busy(let holder):
            let who = holder.map { "\($0) holds it" } ?? "another program holds it"
            return "cannot open \(path): port busy — \(who); close it (serial monitor, minicom, ModemManager) and voltwatch will retry"
        case .notATerminal:
            return "cannot use \(path): not a serial terminal — pass the board's device node, e.g. /dev/ttyACM0 or a /dev/serial/by-id link"
        case .unsupportedBaud(let baud):
            return "cannot use \(path) at \(baud) baud: unsupported rate — use a standard rate such as 115200 (the firmware's default)"
        case .system(let operation, let code):
            return "cannot \(operation) \(path): \(Posix.describe(code))"
        }
    }
}
