import Testing
import VoltCore
@testable import VoltSerial

/// Every fake scenario shows what it is named for, with the shipped configuration, within its
/// first two minutes: a person demoing `voltwatch fake --scenario drift` sees a drift alarm.
@Suite struct ScenarioDetectionTests {
    /// Plays `seconds` of the scenario through a ``DeviceStream`` with the default (shipped)
    /// configuration; receive times advance one period per tick, silent ticks included.
    static func play(_ scenario: FakeScenario, seconds: Int) -> [ScoredResult] {
        var generator = ScenarioGenerator(scenario: scenario, seed: 11)
        var stream = DeviceStream(device: "fake", config: .default)
        var results: [ScoredResult] = []
        let start: Int64 = 1_732_170_000_000
        for tick in 0..<(seconds * 1000 / generator.periodMs) {
            for line in generator.next() {
                if case .result(let r) = stream.ingest(line: line, receivedAtMs: start + Int64(tick * generator.periodMs)) {
                    results.append(r)
                }
            }
        }
        return results
    }

    static func kinds(_ results: [ScoredResult]) -> AnomalyKinds {
        var kinds = AnomalyKinds()
        for r in results { kinds.formUnion(r.kinds) }
        return kinds
    }

    @Test func normalRaisesNothingInFifteenMinutes() {
        let anomalies = Self.play(.normal, seconds: 900).filter(\.isAnomaly)
        #expect(anomalies.isEmpty, "\(anomalies.prefix(3).map(\.reasons))")
    }

    @Test(arguments: [
        (FakeScenario.spikes, [AnomalyKind.spike, .dip]),
        (.drift, [.drift]),
        (.dropout, [.dropout]),
        (.brownout, [.dip, .levelShift]),
        (.noisy, [.noise, .oscillation]),
        (.mixed, [.spike, .dip]),
    ])
    func scenarioIsFlaggedForWhatItIsNamedWithinTwoMinutes(scenario: FakeScenario, expected: [AnomalyKind]) {
        let kinds = Self.kinds(Self.play(scenario, seconds: 120))
        #expect(expected.contains { kinds.contains($0) }, "\(scenario): flagged \(kinds), expected one of \(expected)")
    }
}
