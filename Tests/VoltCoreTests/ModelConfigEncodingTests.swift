import Foundation
import Testing
@testable import VoltCore

/// The configuration `/api/model` reports (Encodable) is the one in effect: it names every key
/// `model_config.json` knows, and parsed back it is the same configuration.
@Suite struct ModelConfigEncodingTests {
    @Test func everyKnownKeyIsEncodedByItsFileName() {
        #expect(ModelConfig.CodingKeys.allCases.map(\.stringValue) == ModelConfig.knownKeys)
    }

    @Test(arguments: [
        ModelConfig.default,
        try! ModelConfig.parse(json: """
            {"anomaly_threshold": 0.8, "window_size": 30, "sample_rate": 0.2, "min_volts": 11.5,
             "max_volts": 14.8, "drift_volts": 0.05, "disabled_detectors": ["noise", "stuck"]}
            """),
    ])
    func encodedAndParsedBackItIsTheSameConfiguration(config: ModelConfig) throws {
        let encoded = try JSONEncoder().encode(config)
        #expect(try ModelConfig.parse(json: Array(encoded)) == config)
    }
}
