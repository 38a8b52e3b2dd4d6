import Synchronization

/// The boards discovery currently sees and the agent reads, shared by the discovery service
/// (which updates it) and the device sessions (which look up their current path and sleep
/// until it changes).
public final class DeviceRegistry: Sendable {
    private struct State {
        var devices: [String: DeviceInfo] = [:]
        var waiters: [ObjectIdentifier: Wakeup] = [:]
    }

    private let state = Mutex(State())
    /// Signals that the set changed; the serial service starts sessions for new ids.
    public let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Replaces the set; returns what appeared and what went away.
    @discardableResult
    public func replace(with devices: [DeviceInfo]) -> (added: [DeviceInfo], removed: [DeviceInfo]) {
        let (added, removed, waiters) = state.withLock { state in
            var next: [String: DeviceInfo] = [:]
            for device in devices { next[device.deviceID] = device }
            let added = devices.filter { state.devices[$0.deviceID] != $0 }
            let removed = state.devices.values.filter { next[$0.deviceID] == nil }
            state.devices = next
            return (added, Array(removed), Array(state.waiters.values))
        }
        if !added.isEmpty || !removed.isEmpty {
            continuation.yield()
            for waiter in waiters { waiter.signal() }
        }
        return (added, removed)
    }

    public var devices: [DeviceInfo] {
        state.withLock { Array($0.devices.values) }.sorted { $0.path < $1.path }
    }

    public func device(id: String) -> DeviceInfo? {
        state.withLock { $0.devices[id] }
    }

    func subscribe(_ wakeup: Wakeup) {
        state.withLock { $0.waiters[ObjectIdentifier(wakeup)] = wakeup }
    }

    func unsubscribe(_ wakeup: Wakeup) {
        _ = state.withLock { $0.waiters.removeValue(forKey: ObjectIdentifier(wakeup)) }
    }

    /// Ends the change stream (shutdown).
    public func finish() { continuation.finish() }
}
