#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VoltCore

/// Produces the lines a board would send, tick by tick: pure and seeded, so the same
/// scenario and seed always give the same lines (tests and demos rely on it).
///
/// Frames look like the firmware's: a `$HELLO` at boot, then one `$VOLT` per period with
/// `seq`, `uptime_ms`, a 10-bit ADC reading at a 5 V reference and the volts it stands for.
/// With several channels, one `$VOLTS` per period as the firmware sends it: A0 plays the
/// scenario, A1... are steady rails of their own (3.3 V, 1.65 V, ...) with their own noise,
/// so an event of the scenario shows on A0 alone.
public struct ScenarioGenerator: Sendable {
    public static let vrefMillivolts = 5_000
    public static let adcBits = 10
    public static let firmware = "voltwatch-fake"
    public static let version = "1.0.0"
    /// Quiet seconds before `noisy` turns loud.
    public static let noisyAfterSeconds = 20.0

    public private(set) var scenario: FakeScenario
    public let seed: UInt64
    public let periodMs: Int
    /// Channels sampled, A0 up: 1 sends `$VOLT` frames, more send `$VOLTS`.
    public let channels: Int
    private var random: SplitMix64
    /// The other channels' noise, drawn apart so A0's lines do not depend on the channel count.
    private var otherRandom: SplitMix64
    /// Ticks since the (simulated) board booted.
    private var tick = 0
    /// Ticks since the generator started (scenario clock; survives reboots).
    private var clock = 0
    private var seq: UInt32 = 0
    private var needsHello = true
    private var nextSpike = 0

    /// The level of each channel after A0, volts.
    public static let otherLevels = [3.3, 1.65, 4.2, 0.8, 2.0]

    public init(scenario: FakeScenario, seed: UInt64 = 1, periodMs: Int = 100, channels: Int = 1) {
        self.scenario = scenario
        self.seed = seed
        self.periodMs = max(1, periodMs)
        self.channels = min(max(1, channels), Int(AnalogChannel.count))
        self.random = SplitMix64(seed: seed)
        self.otherRandom = SplitMix64(seed: seed ^ 0x5EED_C4A7)
        self.nextSpike = 50
    }

    /// Starts over: same seed, same lines.
    public mutating func reset() {
        self = ScenarioGenerator(scenario: scenario, seed: seed, periodMs: periodMs, channels: channels)
    }

    /// Switches scenario and starts over.
    public mutating func select(_ scenario: FakeScenario) {
        self = ScenarioGenerator(scenario: scenario, seed: seed, periodMs: periodMs, channels: channels)
    }

    /// The board lost power or was replugged: `$HELLO` again, `seq` and uptime from 0.
    public mutating func reboot() {
        tick = 0
        seq = 0
        needsHello = true
    }

    /// `$HELLO,voltwatch-fake,1.0.0,<board>,5000,10,<period>*CS`.
    public var helloLine: String {
        let set = channels > 1 ? "," + AnalogChannel.setText(Array(AnalogChannel.all.prefix(channels))) : ""
        return FrameParser.sentence("HELLO,\(Self.firmware),\(Self.version),fake-uno,\(Self.vrefMillivolts),\(Self.adcBits),\(periodMs)\(set)")
    }

    /// The lines for the next period (none while the scenario is silent).
    public mutating func next() -> [String] {
        defer {
            tick += 1
            clock += 1
        }
        var lines: [String] = []
        if needsHello {
            lines.append(helloLine)
            needsHello = false
        }
        let active = scenario == .mixed ? mixedPhase : scenario
        let seconds = Double(clock * periodMs) / 1000
        // `noisy` starts quiet: noise that was there from the first sample is the signal's
        // normal, and the scenario is there to show a noise alarm.
        let loud = active == .noisy && (scenario == .mixed || seconds >= Self.noisyAfterSeconds)
        var volts = 2.5 + gaussian() * (loud ? 0.06 : 0.004)
        switch active {
        case .normal, .mixed:
            break
        case .spikes:
            if clock >= nextSpike {
                let size = 0.4 + random.unit() * 0.5
                volts += random.unit() < 0.5 ? size : -size
                nextSpike = clock + ticks(seconds: 5 + random.unit() * 10)
            }
        case .drift:
            if seconds > 30 { volts += min(1.0, (seconds - 30) * 0.004) }
        case .dropout:
            let phase = clock % ticks(seconds: 30)
            if clock >= ticks(seconds: 30) && phase < ticks(seconds: 3) {
                seq &+= 1  // the board keeps sampling; the frames never arrive
                return lines
            }
        case .brownout:
            let cycle = ticks(seconds: 40)
            let phase = clock % cycle
            if clock >= cycle {
                let sag = ticks(seconds: 1)
                if phase < sag { volts = 2.5 - (0.9 * Double(min(phase + 1, 5)) / 5) + gaussian() * 0.01 }
                if phase == sag { reboot(); lines.append(helloLine); needsHello = false }
            }
        case .noisy:
            if random.unit() < 0.01 {
                lines.append(corrupted(volts))
                seq &+= 1
                return lines
            }
        }
        lines.append(frame(volts))
        seq &+= 1
        return lines
    }

    private var mixedPhase: FakeScenario {
        let order: [FakeScenario] = [.normal, .spikes, .drift, .dropout, .brownout, .noisy]
        return order[(clock / ticks(seconds: 60)) % order.count]
    }

    private func ticks(seconds: Double) -> Int { max(1, Int(seconds * 1000 / Double(periodMs))) }

    private mutating func frame(_ volts: Double) -> String {
        let uptime = UInt32(truncatingIfNeeded: 1_000 + tick * periodMs)
        guard channels > 1 else {
            let (adc, quantised) = Self.quantise(volts)
            return FrameParser.sentence("VOLT,\(seq),\(uptime),\(adc),\(quantised)")
        }
        var body = "VOLTS,\(seq),\(uptime)"
        for index in 0..<channels {
            let level = index == 0 ? volts : Self.otherLevels[index - 1] + otherGaussian() * 0.004
            let (adc, quantised) = Self.quantise(level)
            body += ",A\(index),\(adc),\(quantised)"
        }
        return FrameParser.sentence(body)
    }

    /// The 10-bit code at a 5 V reference and the volts it stands for, as the firmware prints.
    private static func quantise(_ volts: Double) -> (adc: Int, volts: String) {
        let full = Double((1 << adcBits) - 1)
        let vref = Double(vrefMillivolts) / 1000
        let adc = Int(min(full, max(0, (volts / vref * full).rounded())))
        return (adc, FixedPoint.format(Double(adc) * vref / full, digits: 3))
    }

    private mutating func otherGaussian() -> Double {
        let u1 = max(otherRandom.unit(), 1e-12)
        let u2 = otherRandom.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    private mutating func corrupted(_ volts: Double) -> String {
        var line = frame(volts)
        if random.unit() < 0.5 {
            // Flip the checksum's last digit: what a bit error on the wire looks like.
            let last = line.removeLast()
            line.append(last == "0" ? "1" : "0")
        } else {
            line = String(line.prefix(1 + Int(random.unit() * Double(line.count - 1)))) + "\u{7F}#"
        }
        return line
    }

    private mutating func gaussian() -> Double {
        // Box–Muller: two uniforms to one normal deviate.
        let u1 = max(random.unit(), 1e-12)
        let u2 = random.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
