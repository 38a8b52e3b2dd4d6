#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims

/// An open serial port in raw 8N1 mode, owned by one reader thread.
///
/// Opening follows what a long-running agent needs on a shared gateway box:
/// - `O_NOCTTY` so the board can never become our controlling terminal, `O_NONBLOCK` so
///   open does not wait for carrier and reads never block past `poll`, `O_CLOEXEC` so child
///   processes do not inherit the port;
/// - `flock` and `TIOCEXCL` so a second agent or a serial monitor cannot read half our bytes;
/// - HUPCL cleared so closing the port does not drop DTR (which resets an Uno);
/// - modem-line ioctls a pty rejects (the fake device, umockdev) are tolerated.
public final class SerialPort {
    public let path: String
    public private(set) var fd: Int32
    /// False when the port has no modem lines (a pty): tests and the fake device.
    public let hasModemLines: Bool

    /// What one read produced.
    public enum ReadOutcome: Equatable {
        case bytes(Int)
        /// Nothing available right now.
        case wouldBlock
        /// The device went away: hang-up, end of file, EIO or ENXIO. Close at once.
        case hangUp(errno: Int32)
    }

    private init(path: String, fd: Int32, hasModemLines: Bool) {
        self.path = path
        self.fd = fd
        self.hasModemLines = hasModemLines
    }

    deinit { close() }

    /// Opens and configures `path` at `baud` bits per second.
    public static func open(path: String, baud: Int = 115_200) throws(SerialPortError) -> SerialPort {
        let fd = SystemCall.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENODEV, ENXIO: throw SerialPortError(path: path, kind: .notFound)
            case EACCES, EPERM: throw SerialPortError(path: path, kind: .permissionDenied)
            case EBUSY: throw SerialPortError(path: path, kind: .busy(holder: PortHolder.find(path)))
            default: throw SerialPortError(path: path, kind: .system(operation: "open", errno: code))
            }
        }
        func fail(_ kind: SerialPortError.Kind) -> SerialPortError {
            SystemCall.close(fd)
            return SerialPortError(path: path, kind: kind)
        }
        guard isatty(fd) == 1 else { throw fail(.notATerminal) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EWOULDBLOCK {
                SystemCall.close(fd)
                throw SerialPortError(path: path, kind: .busy(holder: PortHolder.find(path)))
            }
            throw fail(.system(operation: "lock", errno: code))
        }
        // Exclusive mode keeps later opens out (root bypasses it; flock covers agents).
        _ = vw_tiocexcl(fd)
        switch vw_make_raw(fd, baud) {
        case 0: break
        case -2: throw fail(.unsupportedBaud(baud))
        default: throw fail(.system(operation: "configure (termios)", errno: errno))
        }
        var bits: Int32 = 0
        let hasModemLines = vw_tiocmget(fd, &bits) == 0
        if hasModemLines {
            // A CDC board only sends once the host raises DTR; the tty layer does on open,
            // but a previous program may have cleared it. Failure is not fatal.
            _ = vw_tiocmbis(fd, vw_tiocm_dtr() | vw_tiocm_rts())
        }
        // Drop whatever queued up before we opened: stale frames with meaningless times.
        tcflush(fd, TCIOFLUSH)
        return SerialPort(path: path, fd: fd, hasModemLines: hasModemLines)
    }

    /// Reads what is available into `buffer` without blocking.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        while true {
            let n = SystemCall.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .hangUp(errno: 0) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            default: return .hangUp(errno: code)
            }
        }
    }

    /// Writes a short command line to the board (`$SET...`). The port is non-blocking and a
    /// command is a few dozen bytes, far below the tty's output buffer: a write that would
    /// block or fails is reported, not retried, and the reader carries on.
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { SystemCall.write(fd, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    /// Discards bytes received but not read (after the board's reset).
    public func flushInput() {
        if fd >= 0 { tcflush(fd, TCIFLUSH) }
    }

    /// Closes the descriptor (idempotent). Exclusive mode and the lock go with it.
    public func close() {
        guard fd >= 0 else { return }
        _ = vw_tiocnxcl(fd)
        SystemCall.close(fd)
        fd = -1
    }
}
