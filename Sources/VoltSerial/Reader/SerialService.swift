public import Logging
public import ServiceLifecycle
public import VoltCore

/// Runs one ``DeviceSession`` per board: one for each `--device` path, and one for each
/// device discovery reports (started the first time its id appears; it then waits through
/// unplugs for the same board to come back).
public struct SerialService: Service {
    public let options: ReaderOptions
    public let selector: DeviceSelector
    /// Device ids for path sessions (e.g. `fake` for `run --fake`); default: see ``deviceID(forPath:)``.
    public var names: [String: String]
    public let registry: DeviceRegistry?
    let sink: any AgentEventSink
    let recorder: Recorder?
    let logger: Logger
    /// Each reader reports alive here (systemd watchdog), when set.
    public var heartbeats: LoopHeartbeats?
    /// The configuration in force; readers apply its replacements (SIGHUP reload).
    public var liveConfig: LiveConfig?

    public init(
        options: ReaderOptions, selector: DeviceSelector, names: [String: String] = [:],
        registry: DeviceRegistry?, sink: any AgentEventSink, recorder: Recorder?, logger: Logger,
        heartbeats: LoopHeartbeats? = nil, liveConfig: LiveConfig? = nil
    ) {
        self.heartbeats = heartbeats
        self.liveConfig = liveConfig
        self.options = options
        self.selector = selector
        self.names = names
        self.registry = registry
        self.sink = sink
        self.recorder = recorder
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for path in selector.paths {
                    let session = DeviceSession(
                        device: names[path] ?? Self.deviceID(forPath: path), source: .path(path),
                        options: options, sink: sink, recorder: recorder, logger: logger,
                        heartbeats: heartbeats, liveConfig: liveConfig)
                    group.addTask { await session.run() }
                }
                guard let registry, selector.usesDiscovery else { return }
                var started = Set<String>()
                for await _ in registry.changes {
                    for device in registry.devices where !started.contains(device.deviceID) {
                        started.insert(device.deviceID)
                        let session = DeviceSession(
                            device: device.deviceID, source: .discovered(registry),
                            options: options, sink: sink, recorder: recorder, logger: logger,
                        heartbeats: heartbeats, liveConfig: liveConfig)
                        group.addTask { await session.run() }
                    }
                }
            }
        }
    }

    /// The id for a device read by path: udev's id when udev knows the node (so a board keeps
    /// its id whichever way it is named), else the link or node name (`voltfake`, `ttyUSB0`).
    public static func deviceID(forPath path: String) -> String {
        let target = Posix.realPath(path)
        if let udev = try? Udev(),
           let known = udev.serialDevices().first(where: { $0.path == target || $0.byID.contains(path) || $0.byPath.contains(path) }) {
            return known.deviceID
        }
        let name = DeviceInfo.slug(DeviceInfo.lastComponent(path), keepCase: true)
        return name.isEmpty ? "serial" : name
    }
}
