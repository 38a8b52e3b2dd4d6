#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims

/// A pseudo-terminal pair: the fake device writes the master, the agent opens the slave by
/// path through the very termios path a real board takes.
final class Pty: Sendable {
    let master: Int32
    let path: String

    init() throws(FakeDeviceError) {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else {
            throw FakeDeviceError(description: "cannot create a pty: \(Posix.describe(errno)) — is /dev/pts mounted?")
        }
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        // Raw from the start: no echo of our frames back into the master, no CR/LF mangling.
        _ = vw_make_raw(slave, 115_200)
        guard let name = ttyname(slave) else {
            close(master)
            close(slave)
            throw FakeDeviceError(description: "cannot name the pty: \(Posix.describe(errno))")
        }
        self.master = master
        self.path = String(cString: name)
        // Close our slave descriptor: the master then reports a hang-up until the agent opens
        // the slave, which is how the fake knows when a host is listening (see `attached`).
        close(slave)
    }

    /// Whether someone has the slave open. Like an Uno, whose DTR reset makes it boot when
    /// the host opens the port, the fake only talks while attached and boots on attach.
    var attached: Bool {
        var fds = [pollfd(fd: master, events: Int16(POLLOUT), revents: 0)]
        guard poll(&fds, 1, 0) >= 0 else { return false }
        return Int32(fds[0].revents) & Int32(POLLHUP) == 0
    }

    /// Writes a whole line without blocking; false when the agent is not reading and the
    /// buffer is full (the line is dropped, as a board's would be).
    func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = SystemCall.write(master, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    deinit { close(master) }
}

/// The fake device could not be set up.
public struct FakeDeviceError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
