/// One line from the board, understood.
public enum Frame: Sendable, Equatable {
    /// `$VOLT,<seq>,<uptime_ms>,<adc_raw>,<volts>*<CS>`: a sample with sequence number.
    case volt(VoltFrame)
    /// `$HELLO,...`: sent once at boot; tells us the firmware and its sampling period.
    case hello(Hello)
    /// A line holding only a decimal number: a sample from a simple `Serial.println` sketch.
    case legacy(volts: Double)
    /// `$VOLTS,<seq>,<uptime_ms>,<ch>,<adc_raw>,<volts>[,...]*<CS>`: several channels, one period.
    case channels(ChannelsFrame)
}

/// The payload of a `$VOLT` frame.
public struct VoltFrame: Sendable, Equatable {
    /// Frame counter from 0, wrapping at 2^32; a jump means lost frames.
    public var seq: UInt32
    /// The board's `millis()` when it sampled, wrapping at 2^32.
    public var uptimeMs: UInt32
    /// The raw ADC reading.
    public var adcRaw: UInt32
    /// The reading converted to volts by the firmware.
    public var volts: Double

    public init(seq: UInt32, uptimeMs: UInt32, adcRaw: UInt32, volts: Double) {
        self.seq = seq
        self.uptimeMs = uptimeMs
        self.adcRaw = adcRaw
        self.volts = volts
    }
}

/// The payload of a `$HELLO` frame.
public struct Hello: Sendable, Equatable, Codable {
    public var firmware: String
    public var version: String
    public var board: String
    /// ADC reference voltage, millivolts.
    public var vrefMillivolts: Int
    /// ADC resolution, bits.
    public var adcBits: Int
    /// Sampling period, milliseconds.
    public var periodMs: Int
    /// The channels the board samples (`$HELLO`'s 7th field, `A0+A1`); nil when the firmware
    /// predates channels (it samples A0).
    public var channels: [AnalogChannel]?

    public init(firmware: String, version: String, board: String, vrefMillivolts: Int, adcBits: Int, periodMs: Int,
                channels: [AnalogChannel]? = nil) {
        self.channels = channels
        self.firmware = firmware
        self.version = version
        self.board = board
        self.vrefMillivolts = vrefMillivolts
        self.adcBits = adcBits
        self.periodMs = periodMs
    }

    enum CodingKeys: String, CodingKey {
        case firmware, version, board
        case vrefMillivolts = "vref_mv"
        case adcBits = "adc_bits"
        case periodMs = "period_ms"
        case channels
    }
}
