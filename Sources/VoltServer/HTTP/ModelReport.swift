import VoltCore

/// `GET /api/model`: the scoring configuration in effect, where it came from, and which
/// detectors run.
struct ModelReport: Encodable, Sendable {
    var version = VoltwatchVersion.string
    var configSource: String
    var config: ModelConfig
    var detectors: [Detector]

    struct Detector: Encodable, Sendable {
        var kind: String
        var enabled: Bool
    }

    enum CodingKeys: String, CodingKey {
        case version, config, detectors
        case configSource = "config_source"
    }

    init(config: ModelConfig, source: String) {
        self.config = config
        configSource = source
        detectors = AnomalyKind.allCases.map { Detector(kind: $0.rawValue, enabled: config.isEnabled($0)) }
    }
}
