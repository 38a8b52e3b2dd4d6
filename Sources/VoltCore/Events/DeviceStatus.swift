/// Where a device's connection stands, as DESIGN.md's `device_status` event reports it.
public enum DeviceState: String, Sendable, Codable, CaseIterable {
    /// No board yet (or not since the agent started): the agent is looking.
    case waiting
    /// The port is open and frames may flow.
    case connected
    /// The board was unplugged or stopped answering; the agent will pick it up again.
    case disconnected
}

/// A `device_status` event: `{device, state, path, firmware}`.
public struct DeviceStatus: Sendable, Equatable, Codable {
    public var device: String
    public var state: DeviceState
    /// The device node (`/dev/ttyACM0`), when known.
    public var path: String?
    /// `<firmware> <version>` from the board's `$HELLO`, when it sent one.
    public var firmware: String?

    public init(device: String, state: DeviceState, path: String? = nil, firmware: String? = nil) {
        self.device = device
        self.state = state
        self.path = path
        self.firmware = firmware
    }

    /// `{"device":...,"state":...,"path":...,"firmware":...}`.
    public var json: String {
        "{\"device\":\(JSONText.string(device)),\"state\":\"\(state.rawValue)\",\"path\":"
            + (path.map(JSONText.string) ?? "null") + ",\"firmware\":"
            + (firmware.map(JSONText.string) ?? "null") + "}"
    }
}
