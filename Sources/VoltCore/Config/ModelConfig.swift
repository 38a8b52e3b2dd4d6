#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The scorer's configuration: `config/model_config.json`.
///
/// The original backend's three keys keep their meaning and are required:
/// `anomaly_threshold` (0-1), `window_size` (samples) and `sample_rate` (samples per second).
/// Every other key has a default chosen for a 10-bit Arduino ADC sampled at 10 Hz; windows
/// given in seconds are converted to samples with `sample_rate`, so a slow sensor (one sample
/// every five minutes, `sample_rate` 0.00333) gets proportionally long timeouts.
public struct ModelConfig: Sendable, Equatable {
    // MARK: The original backend's keys

    /// Score at or above which a sample is an anomaly, in (0, 1].
    public var anomalyThreshold: Double
    /// Samples in the short window that spike, dip, noise and stuck compare against.
    public var windowSize: Int
    /// Expected samples per second; sets the dropout timeout and converts seconds to samples.
    public var sampleRate: Double

    // MARK: Defaults for everything else

    /// Score from which severity is `watch`; nil means 70 % of the threshold.
    public var watchThreshold: Double?
    /// Score from which severity is `critical`; nil means 60 % of the way from threshold to 1.
    public var criticalThreshold: Double?
    /// Time over which the usual noise and repeat rate are learnt, seconds; nil means
    /// ``defaultBaselineSeconds``, which scales with the sample rate.
    public var baselineSeconds: Double?
    /// Deviation from the short-window median, in robust deviations (MADs), that makes a
    /// spike or dip certain.
    public var spikeMADs: Double
    /// Smallest noise level assumed, volts; nil (the default) learns it from the signal (its
    /// resolution and usual step size, see `SignalScale`). A quiet signal sitting on one ADC
    /// step has a MAD of zero, and one step of change must not look infinite.
    public var minNoiseVolts: Double?
    /// The window a drift's straight line is fitted over, seconds.
    public var driftSeconds: Double
    /// The least change of that line over its window that makes a drift certain, volts; nil
    /// (the default) asks for 16 σ of the signal's own step noise. Raised automatically on
    /// signals that wander by themselves.
    public var driftVolts: Double?
    /// A gap longer than this many sample periods is a dropout.
    public var dropoutPeriods: Double
    /// The signal repeating exactly the same value for this long is stuck, seconds.
    public var stuckSeconds: Double
    /// Short-window noise this many times the baseline noise is a noise anomaly.
    public var noiseRatio: Double
    /// Periodic energy this many times the baseline's is an oscillation.
    public var oscillationRatio: Double
    /// Lower and upper limits, volts; nil disables that side of `out_of_range`.
    public var minVolts: Double?
    public var maxVolts: Double?
    /// How long a lasting change (a new level, a new noise level, a steady drift) alarms
    /// before it becomes the new normal, seconds (at least three samples). Faults that are
    /// states (dropout, stuck, out_of_range, lost_frames) alarm for as long as they last.
    public var adaptSeconds: Double
    /// How rare a detector's reading must be on this signal to be certain, in powers of ten:
    /// 3 means seen at most once in a thousand samples of its history. Scores below certainty
    /// scale with the rarity, so one threshold fits signals of different scale and noise.
    public var rarityDecades: Double
    /// The history a detector's rarity is judged against, seconds; nil means
    /// ``defaultHistorySeconds``.
    public var historySeconds: Double?
    /// Detectors turned off, by kind name (`"noise"`, `"lost_frames"`, ...).
    public var disabledDetectors: Set<AnomalyKind>

    public init(anomalyThreshold: Double = 0.7, windowSize: Int = 50, sampleRate: Double = 10) {
        self.anomalyThreshold = anomalyThreshold
        self.windowSize = windowSize
        self.sampleRate = sampleRate
        self.watchThreshold = nil
        self.criticalThreshold = nil
        self.baselineSeconds = nil
        self.spikeMADs = 14
        self.minNoiseVolts = nil
        self.driftSeconds = 60
        self.driftVolts = nil
        self.dropoutPeriods = 10
        self.stuckSeconds = 10
        self.noiseRatio = 3
        self.oscillationRatio = 4
        self.minVolts = nil
        self.maxVolts = nil
        self.adaptSeconds = 30
        self.rarityDecades = 3
        self.historySeconds = nil
        self.disabledDetectors = []
    }

    /// What voltwatch ships in `config/model_config.json`.
    public static let `default` = ModelConfig()

    // MARK: Derived values

    /// Two minutes, or two windows when that is longer (a slow sensor's window of 50 samples
    /// five minutes apart spans four hours).
    public var defaultBaselineSeconds: Double { max(120, 2 * Double(windowSize) / sampleRate) }
    /// The baseline in effect, seconds.
    public var effectiveBaselineSeconds: Double { baselineSeconds ?? defaultBaselineSeconds }

    /// One hour, 20 windows, or 3 × 10^`rarity_decades` samples, whichever is longest: a
    /// history shorter than that could not tell "once in 10^decades" from "never".
    public var defaultHistorySeconds: Double {
        max(3_600, 20 * Double(windowSize) / sampleRate, 3 * pow(10, rarityDecades) / sampleRate)
    }
    /// The rarity history in effect, samples.
    public var historySamples: Double { (historySeconds ?? defaultHistorySeconds) * sampleRate }
    /// The long memory of the learnt detectors, samples: four days, as the rhythm's. Where
    /// the history is shorter (a fast line), a reading held often enough over these days is
    /// the signal's habit, not news (``Rarity``).
    public var habitSamples: Double { 4 * 86_400 * sampleRate }
    /// Whether the habit is kept: only where the history is shorter than four days.
    public var keepsHabits: Bool { habitSamples > historySamples }
    /// How many times the last four days must hold an alarm for it to be a habit: once every
    /// three hours.
    public static let habitCount = 32
    /// The rarity a reading needs to be certain, in powers of ten: `rarity_decades`, or more
    /// when the history holds more than 3 × 10^`rarity_decades` samples, so that a reading is
    /// rare only if the history holds it fewer than three times. A bar per sample alone would
    /// make "rare" mean "less than once in 100 s" on a 10 Hz line and "less than once in 3.5
    /// days" on a 5-minute one; a solar panel's passing clouds, ten an hour, would then be
    /// news all day.
    public var rarityBarDecades: Double { max(rarityDecades, log10(historySamples / 3)) }
    /// `adapt_seconds` in samples, at least three.
    public var adaptSamples: Int { max(3, Int((adaptSeconds * sampleRate).rounded())) }

    /// Severity band edges in effect.
    public var effectiveWatchThreshold: Double { watchThreshold ?? anomalyThreshold * 0.7 }
    public var effectiveCriticalThreshold: Double {
        criticalThreshold ?? anomalyThreshold + (1 - anomalyThreshold) * 0.6
    }
    /// One sample period, milliseconds.
    public var periodMs: Double { 1000 / sampleRate }
    /// Silence longer than this is a dropout, milliseconds.
    public var dropoutTimeoutMs: Double { dropoutPeriods * periodMs }

    public func isEnabled(_ kind: AnomalyKind) -> Bool { !disabledDetectors.contains(kind) }

    /// The detectors that are on, as bits: what the scorer checks per sample (a `Set` lookup
    /// there would hash on every sample).
    public var enabledKinds: AnomalyKinds {
        AnomalyKinds(AnomalyKind.allCases.filter { !disabledDetectors.contains($0) })
    }

    /// The severity bands in effect.
    var severityBands: SeverityBands {
        SeverityBands(watch: effectiveWatchThreshold, warning: anomalyThreshold, critical: effectiveCriticalThreshold)
    }

    public func severity(for score: Double) -> Severity { severityBands.severity(for: score) }
}
