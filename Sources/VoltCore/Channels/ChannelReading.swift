/// One channel's reading in a `$VOLTS` frame.
public struct ChannelReading: Sendable, Equatable {
    public var channel: AnalogChannel
    /// The raw ADC code at the pin.
    public var adcRaw: UInt32
    /// The voltage at the pin, as the firmware converted it.
    public var volts: Double

    public init(channel: AnalogChannel, adcRaw: UInt32, volts: Double) {
        self.channel = channel
        self.adcRaw = adcRaw
        self.volts = volts
    }
}

/// The payload of a `$VOLTS` frame: every sampled channel of one period, under one `seq`.
public struct ChannelsFrame: Sendable, Equatable {
    public var seq: UInt32
    public var uptimeMs: UInt32
    /// 1 to 6 readings, channels ascending, each channel once.
    public var readings: [ChannelReading]

    public init(seq: UInt32, uptimeMs: UInt32, readings: [ChannelReading]) {
        self.seq = seq
        self.uptimeMs = uptimeMs
        self.readings = readings
    }
}
