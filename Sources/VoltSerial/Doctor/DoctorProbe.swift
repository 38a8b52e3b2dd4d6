#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Gathers ``DoctorFacts`` from this machine: discovery's device list, each node's owner and
/// mode, who holds it (``PortHolder``), the current and the service user's groups, processes
/// known to grab serial ports (from `/proc`), and where the udev rule is installed. Reads
/// only; opens no device (opening an Uno resets it).
public struct DoctorProbe {
    /// Where udev reads rules from, most specific first.
    public static let defaultRuleDirectories = [
        "/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d", "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
    ]
    public static let ruleFileName = "99-voltwatch.rules"
    /// Process names (`/proc/PID/comm`) that take serial ports away from us.
    public static let interferingNames = ["ModemManager", "brltty"]

    public var ruleDirectories = DoctorProbe.defaultRuleDirectories
    public var serviceUserName = "voltwatch"
    /// Extra nodes to check besides what discovery lists (`doctor --device PATH`).
    public var extraPaths: [String] = []

    public init() {}

    public func gather() -> DoctorFacts {
        var infos: [DeviceInfo] = []
        var discoveryError: String?
        do {
            infos = try Udev().serialDevices()
        } catch {
            discoveryError = error.description
        }
        for path in extraPaths where !infos.contains(where: { $0.path == path || $0.path == Posix.realPath(path) }) {
            infos.append(DeviceInfo(path: path, sysPath: ""))
        }
        let devices = infos.map { info in
            DoctorFacts.Device(
                info: info, node: Self.node(info.path), holder: PortHolder.find(info.path),
                known: KnownBoards.lookup(vendorID: info.vendorID, productID: info.productID) != nil)
        }
        let user = Self.account(uid: getuid()) ?? DoctorFacts.Account(name: String(getuid()), uid: getuid(), groups: Self.ownGroups())
        var current = user
        current.groups = Self.ownGroups()  // the process's groups now, not just /etc/group's
        return DoctorFacts(
            devices: devices, discoveryError: discoveryError, user: current,
            serviceUser: Self.account(named: serviceUserName),
            interferingProcesses: Self.processes(named: Self.interferingNames),
            installedRules: ruleDirectories.map { $0 + "/" + Self.ruleFileName }.filter { access($0, F_OK) == 0 })
    }

    static func node(_ path: String) -> DoctorFacts.Node? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return DoctorFacts.Node(
            mode: UInt32(info.st_mode), uid: info.st_uid, gid: info.st_gid,
            ownerName: getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) },
            groupName: getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) },
            isCharacterDevice: (info.st_mode & S_IFMT) == S_IFCHR)
    }

    static func ownGroups() -> [UInt32: String] {
        let count = getgroups(0, nil)
        var ids = [gid_t](repeating: 0, count: Int(max(count, 0)))
        let n = getgroups(count, &ids)
        var groups: [UInt32: String] = [:]
        for gid in ids.prefix(Int(max(n, 0))) + [getegid()] {
            groups[gid] = getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? String(gid)
        }
        return groups
    }

    static func account(uid: uid_t) -> DoctorFacts.Account? {
        guard let entry = getpwuid(uid) else { return nil }
        return account(entry.pointee)
    }

    static func account(named name: String) -> DoctorFacts.Account? {
        guard let entry = getpwnam(name) else { return nil }
        return account(entry.pointee)
    }

    /// A user with its primary group and every group listing it in the group database.
    static func account(_ entry: passwd) -> DoctorFacts.Account {
        let name = String(cString: entry.pw_name)
        var count: Int32 = 64
        var ids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(entry.pw_name, entry.pw_gid, &ids, &count) < 0 {
            ids = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(entry.pw_name, entry.pw_gid, &ids, &count)
        }
        var groups: [UInt32: String] = [:]
        for gid in ids.prefix(Int(max(count, 0))) {
            groups[gid] = getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? String(gid)
        }
        return DoctorFacts.Account(name: name, uid: entry.pw_uid, groups: groups)
    }

    static func processes(named names: [String]) -> [(name: String, pid: Int32)] {
        var found: [(name: String, pid: Int32)] = []
        for entry in Posix.listDirectory("/proc") {
            guard let pid = Int32(entry), let comm = Posix.readSmallFile("/proc/\(entry)/comm") else { continue }
            // comm is cut at 15 bytes: "ModemManager" fits, so compare whole names.
            if let name = names.first(where: { $0 == comm || $0.hasPrefix(comm) && comm.count == 15 }) {
                found.append((name, pid))
            }
        }
        return found.sorted { $0.pid < $1.pid }
    }
}
