#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's `open`, `read`, `write` and `close`, for types whose own methods of those
/// names hide the C functions (`SerialPort.close()`, `Recorder.close()`, `OutputFile.write`).
///
/// Spelling them `Glibc.close` would tie the file to glibc: a Musl (static Linux) build has no
/// module of that name. Here the names resolve to whichever C library was imported above.
package enum SystemCall {
    /// `mode` is the permission bits (`0o644`), used with `O_CREAT`.
    package static func open(_ path: String, _ flags: Int32, _ mode: UInt32 = 0) -> Int32 { libcOpen(path, flags, mode_t(mode)) }

    package static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        libcRead(fd, buffer, count)
    }

    package static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        libcWrite(fd, buffer, count)
    }

    @discardableResult
    package static func close(_ fd: Int32) -> Int32 { libcClose(fd) }

    /// `SOCK_DGRAM | SOCK_CLOEXEC`, for `socket(2)`: glibc's headers make the socket types an
    /// enum (Swift sees a struct with a `rawValue`), musl's plain integers.
    package static let datagramCloseOnExec: Int32 = {
        #if canImport(Glibc)
        Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        SOCK_DGRAM | SOCK_CLOEXEC
        #endif
    }()
}

// At file scope nothing hides the C functions.
private func libcOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func libcRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func libcWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
private func libcClose(_ fd: Int32) -> Int32 { close(fd) }
