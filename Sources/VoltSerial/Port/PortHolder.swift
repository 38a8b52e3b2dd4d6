#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds which process holds a device open, so a "port busy" error can name it.
///
/// Walks `/proc/*/fd` looking for links to the device node: the same thing `fuser` does.
/// Processes of other users are invisible without privileges; then the answer is nil and
/// the error stays generic.
public enum PortHolder {
    public static func find(_ path: String, excludingSelf: Bool = true) -> String? {
        let target = Posix.realPath(path) ?? path
        let me = getpid()
        for entry in Posix.listDirectory("/proc") {
            guard let pid = Int32(entry), !(excludingSelf && pid == me) else { continue }
            for fd in Posix.listDirectory("/proc/\(pid)/fd") {
                if Posix.readLink("/proc/\(pid)/fd/\(fd)") == target {
                    let name = Posix.readSmallFile("/proc/\(pid)/comm") ?? "?"
                    return "pid \(pid) (\(name))"
                }
            }
        }
        return nil
    }
}
