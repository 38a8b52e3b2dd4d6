#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's open-descriptor limit, measured against what the server's connection limits
/// need.
///
/// Every connection, WebSocket client or HTTP request, holds one descriptor, and the agent a
/// few dozen of its own (the board, the listening socket, event loops, recordings). A shell on
/// a stock Debian box starts programs with a soft limit of 1,024: about 960 clients, where the
/// default allows 2,000. The hard limit is usually far higher, and any process may raise its soft
/// limit up to it, so the server does, as Go's runtime does for every program; the systemd unit
/// sets both with `LimitNOFILE=`. When even the hard limit is short, the operator is told
/// how many clients fit and what to change.
struct DescriptorLimit: Equatable, Sendable {
    /// Descriptors the agent holds besides its connections.
    static let reserve = 64

    var soft: UInt64
    var hard: UInt64

    /// Descriptors needed to serve `maxConnections` connections at once, `maxClients` of them
    /// WebSocket clients: one each, whatever the kind.
    static func needed(maxClients: Int, maxConnections: Int) -> UInt64 {
        UInt64(max(0, maxClients, maxConnections) + reserve)
    }

    /// The soft limit to ask for: what is `needed`, within the hard limit, never lower
    /// than the soft limit already in force.
    func raised(toServe needed: UInt64) -> DescriptorLimit {
        DescriptorLimit(soft: max(soft, min(needed, hard)), hard: hard)
    }

    /// How many WebSocket clients the soft limit serves at once, with no HTTP connection open.
    var clientsServed: Int {
        max(0, Int(clamping: soft) - Self.reserve)
    }

    /// What to tell the operator when the limit stays below `needed`; nil when it does not.
    func shortfall(needed: UInt64, maxClients: Int) -> String? {
        guard soft < needed else { return nil }
        return "the open-file limit is \(soft) (hard limit \(hard)), enough for about \(clientsServed) of the "
            + "\(maxClients) clients allowed; \(needed) are needed. Raise it (ulimit -n \(needed) in the shell "
            + "that starts voltwatch, or LimitNOFILE= in its systemd unit), or lower --max-clients."
    }

    // MARK: The process's limit

    /// The limit in force; nil where it cannot be read.
    static func current() -> DescriptorLimit? {
        #if canImport(Glibc) || canImport(Musl)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return DescriptorLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
        #else
        return nil
        #endif
    }

    /// Sets this soft limit; returns the errno that refused it, or 0.
    func apply() -> Int32 {
        #if canImport(Glibc) || canImport(Musl)
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        return setrlimit(Self.resource, &limit) == 0 ? 0 : errno
        #else
        return ENOSYS
        #endif
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #elseif canImport(Musl)
    private static let resource = Int32(RLIMIT_NOFILE)
    #endif

    /// Raises the process's soft limit as far as `maxClients` and `maxConnections` need and
    /// the hard limit allows; returns what to warn the operator of, if anything.
    static func raise(maxClients: Int, maxConnections: Int) -> String? {
        guard let limit = current() else { return nil }
        let needed = needed(maxClients: maxClients, maxConnections: maxConnections)
        var inForce = limit
        let wanted = limit.raised(toServe: needed)
        if wanted != limit, wanted.apply() == 0 { inForce = wanted }
        return inForce.shortfall(needed: needed, maxClients: maxClients)
    }
}
