#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
public import ServiceLifecycle

/// Keeps the ``DeviceRegistry`` in step with what is plugged in.
///
/// Listens to udev's netlink events (a board appears or vanishes at once) and, where no udev
/// daemon runs (containers, where netlink stays silent), also re-enumerates every
/// ``pollIntervalMs``. Both paths end in the same enumerate-and-diff, so a missed or
/// duplicated event cannot leave the registry wrong.
public struct DiscoveryService: Service {
    public let registry: DeviceRegistry
    public let selector: DeviceSelector
    /// Re-enumerate this often, milliseconds, when udevd is not running; ten times slower
    /// when it is (a safety net for lost netlink messages).
    public var pollIntervalMs: Int
    /// The monitor loop reports alive here (systemd watchdog), when set.
    public var heartbeats: LoopHeartbeats?
    let logger: Logger

    public init(
        registry: DeviceRegistry, selector: DeviceSelector, pollIntervalMs: Int = 2_000, logger: Logger,
        heartbeats: LoopHeartbeats? = nil
    ) {
        self.heartbeats = heartbeats
        self.registry = registry
        self.selector = selector
        self.pollIntervalMs = pollIntervalMs
        self.logger = logger
    }

    /// Whether a udev daemon runs here (it creates this socket).
    public static var udevDaemonRunning: Bool { access("/run/udev/control", F_OK) == 0 }

    public func run() async throws {
        let wakeup = Wakeup()
        await withTaskCancellationHandler {
            await cancelWhenGracefulShutdown {
                await withTaskCancellationHandler {
                    await BlockingThread.run(name: "udev-monitor") { self.loop(wakeup: wakeup) }
                } onCancel: {
                    wakeup.signal()
                }
            }
        } onCancel: {
            wakeup.signal()
        }
        registry.finish()
    }

    private func loop(wakeup: Wakeup) {
        let udev: Udev
        do {
            udev = try Udev()
        } catch {
            logger.error("\(error.description)")
            wakeup.wait(milliseconds: -1)
            return
        }
        var monitor: UdevMonitor?
        do {
            monitor = try UdevMonitor(udev: udev)
        } catch {
            logger.warning("\(error.description); polling every \(pollIntervalMs) ms instead")
        }
        let interval = Int64(monitor == nil || !Self.udevDaemonRunning ? pollIntervalMs : pollIntervalMs * 10)
        let beat = heartbeats?.register("udev monitor")
        defer { if let beat { heartbeats?.unregister(beat) } }
        // Devices udev reported removed: dropped at once, even while sysfs still shows them.
        var gone = Set<String>()
        refresh(udev, reason: "start", gone: gone)
        if registry.devices.isEmpty { logger.info("no board found yet; waiting for one to be plugged in") }
        var fds = [pollfd(fd: wakeup.fd, events: Int16(POLLIN), revents: 0)]
        if let monitor { fds.append(pollfd(fd: monitor.fd, events: Int16(POLLIN), revents: 0)) }
        var nextPoll = MonotonicTime.milliseconds() + interval
        while true {
            beat?.beat()
            for i in fds.indices { fds[i].revents = 0 }
            // Wake at least once per heartbeat tick, re-enumerate only every `interval`.
            let wait = min(max(0, nextPoll - MonotonicTime.milliseconds()), Int64(LoopHeartbeats.tickMs))
            let ready = poll(&fds, nfds_t(fds.count), Int32(clamping: wait))
            if ready < 0 && errno == EINTR { continue }
            if fds[0].revents != 0 { return }
            let pollDue = MonotonicTime.milliseconds() >= nextPoll
            if pollDue { nextPoll = MonotonicTime.milliseconds() + interval }
            var changed = pollDue
            if let monitor, fds.count > 1, fds[1].revents != 0 {
                while let event = monitor.receive() {
                    if event.action == .remove { gone.insert(event.sysPath) }
                    if event.action == .add { gone.remove(event.sysPath) }
                    logger.info("udev \(event.action.rawValue)", metadata: ["syspath": "\(event.sysPath)", "path": "\(event.path ?? "-")"])
                    changed = true
                }
            }
            if changed { refresh(udev, reason: pollDue ? "poll" : "udev event", gone: gone) }
        }
    }

    private func refresh(_ udev: Udev, reason: String, gone: Set<String>) {
        let picked = selector.discovered(udev.serialDevices().filter { !gone.contains($0.sysPath) })
        let (added, removed) = registry.replace(with: picked)
        for device in added {
            logger.info("device added: \(device.path) (\(device.vidPid ?? "no USB id")) as \(device.deviceID)", metadata: ["reason": "\(reason)"])
        }
        for device in removed {
            logger.info("device removed: \(device.path) (\(device.deviceID))", metadata: ["reason": "\(reason)"])
        }
    }
}
