/// Everything `voltwatch doctor` looks at, gathered once (``DoctorProbe``) and judged by the
/// pure ``Diagnosis``, so each finding and its fix is tested from made-up facts.
public struct DoctorFacts: Sendable, Equatable {
    /// A user and the groups it is in (ids and names).
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: UInt32
        public var groups: [UInt32: String]

        public init(name: String, uid: UInt32, groups: [UInt32: String]) {
            self.name = name
            self.uid = uid
            self.groups = groups
        }
    }

    /// A device node's owner and permission bits.
    public struct Node: Sendable, Equatable {
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var ownerName: String?
        public var groupName: String?
        public var isCharacterDevice: Bool

        public init(mode: UInt32, uid: UInt32, gid: UInt32, ownerName: String? = nil, groupName: String? = nil,
                    isCharacterDevice: Bool = true) {
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.ownerName = ownerName
            self.groupName = groupName
            self.isCharacterDevice = isCharacterDevice
        }
    }

    /// One serial device: what udev says, its node (nil: missing), who holds it open.
    public struct Device: Sendable, Equatable {
        public var info: DeviceInfo
        public var node: Node?
        public var holder: String?
        /// Whether `voltwatch run` would pick it by itself (a known board).
        public var known: Bool

        public init(info: DeviceInfo, node: Node?, holder: String? = nil, known: Bool) {
            self.info = info
            self.node = node
            self.holder = holder
            self.known = known
        }
    }

    public var devices: [Device]
    /// Why discovery could not run at all (no libudev, no /sys), if it could not.
    public var discoveryError: String?
    /// Who runs the doctor.
    public var user: Account
    /// The service's user (`voltwatch`), when it exists on this machine.
    public var serviceUser: Account?
    /// Processes known to grab USB serial ports: `ModemManager`, `brltty`, with their pid.
    public var interferingProcesses: [(name: String, pid: Int32)]
    /// Where the voltwatch udev rule was found (empty: not installed).
    public var installedRules: [String]

    public init(devices: [Device], discoveryError: String? = nil, user: Account, serviceUser: Account? = nil,
                interferingProcesses: [(name: String, pid: Int32)] = [], installedRules: [String] = []) {
        self.devices = devices
        self.discoveryError = discoveryError
        self.user = user
        self.serviceUser = serviceUser
        self.interferingProcesses = interferingProcesses
        self.installedRules = installedRules
    }

    public static func == (a: DoctorFacts, b: DoctorFacts) -> Bool {
        a.devices == b.devices && a.discoveryError == b.discoveryError && a.user == b.user
            && a.serviceUser == b.serviceUser && a.installedRules == b.installedRules
            && a.interferingProcesses.map(\.name) == b.interferingProcesses.map(\.name)
            && a.interferingProcesses.map(\.pid) == b.interferingProcesses.map(\.pid)
    }
}
