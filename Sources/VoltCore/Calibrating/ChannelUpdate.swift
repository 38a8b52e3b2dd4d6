/// What `voltwatch calibrate` changes in one stream's entry of the settings file. A nil field
/// keeps what the file says, so calibrating a battery does not forget the limits someone set
/// for it by hand.
public struct ChannelUpdate: Sendable, Equatable {
    public var calibration: Calibration?
    public var name: String?
    public var unit: String?
    public var min: Double?
    public var max: Double?

    public init(calibration: Calibration? = nil, name: String? = nil, unit: String? = nil, min: Double? = nil, max: Double? = nil) {
        self.calibration = calibration
        self.name = name
        self.unit = unit
        self.min = min
        self.max = max
    }

    /// `entry` with this update's fields in place of its own.
    public func applied(to entry: ChannelSettings) -> ChannelSettings {
        var entry = entry
        if let calibration { entry.calibration = calibration }
        if let name { entry.name = name }
        if let unit { entry.unit = unit }
        if let min { entry.min = min }
        if let max { entry.max = max }
        return entry
    }
}
