import CoreMetrics
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import Logging
import Testing
import VoltCore
@testable import VoltServer

/// `voltage_data` as the original backend meant it: each app scored on its own, irregular
/// samples, a few samples enough to flag a wild one, and app results kept away from devices.
@Suite struct AppScoringTests {
    static func scorers(limit: Int = 256) -> AppScorers {
        let server = ServerTests.makeServer { $0.maxAppScorers = limit }
        return server.appScorers
    }

    static func decode(_ result: Result<String, AppScoringRefusal>) throws -> [String: JSONValue] {
        let json = try result.get()
        guard case .object(let fields) = try JSONValue.parse(Array(json.utf8)) else { throw AppScoringTestError() }
        return fields
    }

    static func score(_ fields: [String: JSONValue]) -> Double {
        if case .number(let s)? = fields["anomaly_score"] { return s }
        return .nan
    }

    static func isAnomaly(_ fields: [String: JSONValue]) -> Bool { fields["is_anomaly"] == .bool(true) }

    @Test func twoAppsSendingDifferentLevelsDoNotAffectEachOther() throws {
        let shared = Self.scorers()
        let phoneA = AppStreams(shared: shared)
        let phoneB = AppStreams(shared: shared)
        var t: Int64 = 1_732_170_000_000
        for _ in 0..<60 {
            t += 1_000
            let a = try Self.decode(phoneA.score(volts: 1.0, timestampMs: nil, device: nil, nowMs: t))
            #expect(!Self.isAnomaly(a))
        }
        // Phone B's steady 3.0 V is its own normal, whatever phone A sent.
        var bScores: [Double] = []
        for _ in 0..<60 {
            t += 1_000
            let b = try Self.decode(phoneB.score(volts: 3.0, timestampMs: nil, device: nil, nowMs: t))
            #expect(!Self.isAnomaly(b))
            bScores.append(Self.score(b))
        }
        #expect(bScores.allSatisfy { $0 < 0.1 })
        // And the same 3.0 V from phone A, whose normal is 1.0 V, is an anomaly.
        let a = try Self.decode(phoneA.score(volts: 3.0, timestampMs: nil, device: nil, nowMs: t + 1_000))
        #expect(Self.isAnomaly(a))
    }

    @Test func wildSampleIsFlaggedAfterThreeSamples() throws {
        let streams = AppStreams(shared: Self.scorers())
        for i in 0..<3 {
            let r = try Self.decode(streams.score(volts: 2.5, timestampMs: nil, device: nil, nowMs: 1_000 * Int64(i)))
            #expect(!Self.isAnomaly(r))
        }
        let wild = try Self.decode(streams.score(volts: 9.9, timestampMs: nil, device: nil, nowMs: 4_000))
        #expect(Self.isAnomaly(wild))
        #expect(wild["kinds"] == .array([.string("spike")]))
        #expect(wild["device"] == .string("app"))
    }

    @Test func anAlarmDuringWarmUpBelongsToAnEpisodeLikeAnyOther() throws {
        // The few-samples rule flags the wild ones; its alarms are numbered as episodes, as the
        // device scorer's are: one per run of anomalous results, none for a normal one.
        let streams = AppStreams(shared: Self.scorers())
        var episodes: [JSONValue?] = []
        for (i, v) in [2.5, 2.5, 2.5, 9.9, 9.8, 2.5, 9.9].enumerated() {
            let r = try Self.decode(streams.score(volts: v, timestampMs: nil, device: nil, nowMs: 1_000 * Int64(i)))
            #expect(Self.isAnomaly(r) == (v > 9), "\(v) V")
            episodes.append(r["episode"])
        }
        #expect(episodes == [.null, .null, .null, .number(1), .number(1), .null, .number(2)])
    }

    @Test func nearbySamplesAreNotFlaggedWhileWarmingUp() throws {
        let streams = AppStreams(shared: Self.scorers())
        for (i, v) in [2.5, 2.5, 2.5, 2.6, 2.4, 2.7, 2.5].enumerated() {
            let r = try Self.decode(streams.score(volts: v, timestampMs: nil, device: nil, nowMs: 1_000 * Int64(i)))
            #expect(!Self.isAnomaly(r), "\(v) V flagged")
        }
    }

    @Test func thousandHandTypedSamplesAtRandomIntervalsRaiseNoDropout() throws {
        let streams = AppStreams(shared: Self.scorers())
        var generator = SplitMix(seed: 17)
        var now: Int64 = 1_732_170_000_000
        var anomalies = 0
        for _ in 0..<1_000 {
            // Between 0.2 s and 8 s apart, as a person types.
            now += 200 + Int64(generator.next() % 7_800)
            let volts = 2.5 + Double(generator.next() % 21) / 1_000 - 0.01
            let r = try Self.decode(streams.score(volts: volts, timestampMs: nil, device: nil, nowMs: now))
            #expect(r["kinds"] != .array([.string("dropout")]))
            if Self.isAnomaly(r) { anomalies += 1 }
        }
        #expect(anomalies == 0)
    }

    @Test func appTimestampsKeepTheDropoutDetector() throws {
        let streams = AppStreams(shared: Self.scorers())
        var t: Int64 = 1_732_170_000_000
        for _ in 0..<20 {
            t += 100
            _ = try streams.score(volts: 2.5, timestampMs: t, device: nil, nowMs: 0).get()
        }
        let late = try Self.decode(streams.score(volts: 2.5, timestampMs: t + 30_000, device: nil, nowMs: 0))
        #expect(Self.isAnomaly(late))
        #expect(late["kinds"] == .array([.string("dropout")]))
    }

    @Test func namedDevicesAreScoredApartAndMarked() throws {
        let streams = AppStreams(shared: Self.scorers())
        for i in 0..<10 {
            _ = try streams.score(volts: 1.0, timestampMs: nil, device: "bench", nowMs: Int64(i)).get()
            _ = try streams.score(volts: 4.0, timestampMs: nil, device: "probe-2", nowMs: Int64(i)).get()
        }
        let bench = try Self.decode(streams.score(volts: 1.0, timestampMs: nil, device: "bench", nowMs: 20))
        #expect(bench["device"] == .string("app:bench"))
        #expect(!Self.isAnomaly(bench))
        #expect(streams.count == 2)
    }

    @Test func scorersAreCappedAndFreedWhenTheClientGoes() throws {
        let shared = Self.scorers(limit: 2)
        var first: AppStreams? = AppStreams(shared: shared)
        let second = AppStreams(shared: shared)
        let third = AppStreams(shared: shared)
        _ = try first!.score(volts: 1, timestampMs: nil, device: nil, nowMs: 0).get()
        _ = try second.score(volts: 1, timestampMs: nil, device: nil, nowMs: 0).get()
        #expect(throws: AppScoringRefusal.tooManyScorers(2)) {
            try third.score(volts: 1, timestampMs: nil, device: nil, nowMs: 0).get()
        }
        #expect(shared.count == 2)
        first = nil
        #expect(shared.count == 1)
        _ = try third.score(volts: 1, timestampMs: nil, device: nil, nowMs: 0).get()
        #expect(shared.count == 2)
        _ = first
    }

    @Test func oneClientMayNameOnlyAFewDevices() throws {
        let streams = AppStreams(shared: Self.scorers())
        for i in 0..<8 { _ = try streams.score(volts: 1, timestampMs: nil, device: "d\(i)", nowMs: 0).get() }
        #expect(throws: AppScoringRefusal.tooManyNames(8)) {
            try streams.score(volts: 1, timestampMs: nil, device: "d8", nowMs: 0).get()
        }
    }

    @Test(arguments: [
        (#"{"voltage":"2.5"}"#, ClientRequest.voltageData(volts: 2.5, timestampMs: nil)),
        (#"{"voltage":" 3 ","timestamp":"1732170000.5"}"#, .voltageData(volts: 3, timestampMs: 1_732_170_000_500)),
        (#"{"voltage":1.25,"device":"bench-1"}"#, .voltageData(volts: 1.25, timestampMs: nil, device: "bench-1")),
        (#""4.5""#, .voltageData(volts: 4.5, timestampMs: nil)),
    ])
    func numbersAsStringsAreAccepted(data: String, expected: ClientRequest) throws {
        #expect(try ClientRequest.parse(socketIOPayload: "[\"voltage_data\",\(data)]") == expected)
    }

    @Test(arguments: [#"{"voltage":"nan"}"#, #"{"voltage":"2.5V"}"#, #"{"voltage":2,"device":"a b"}"#,
                      #"{"voltage":2,"device":""}"#, #"{"voltage":2,"device":7}"#,
                      // Beyond what any frame may carry: once, such a value crashed the scorer.
                      #"{"voltage":1e20}"#, #""-1e20""#, #"{"voltage":1000.5}"#])
    func badSamplesAreRefusedWithAReason(data: String) {
        #expect(throws: ClientMessageError.self) { try ClientRequest.parse(socketIOPayload: "[\"voltage_data\",\(data)]") }
    }

    @Test func appResultsStayOutOfDeviceStatusAndAnomalies() async throws {
        let server = ServerTests.makeServer()
        try await server.makeApplication().test(.live) { client in
            _ = try await client.ws("/ws") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                _ = try await messages.next()  // hello
                for v in [2.5, 2.5, 2.5, 9.9] {
                    try await outbound.write(.text(#"{"event":"voltage_data","data":{"voltage":\#(v)}}"#))
                    let answer = try await messages.next()
                    guard case .text(let text)? = answer else { Issue.record("expected an answer"); return }
                    #expect(text.contains("\"device\":\"app\""))
                    #expect(text.contains("\"is_anomaly\":\(v == 9.9)"))
                }
            }
            try await client.execute(uri: "/api/status", method: .get) { response in
                #expect(String(buffer: response.body).contains("\"devices\":[]"))
            }
            try await client.execute(uri: "/api/anomalies", method: .get) { response in
                #expect(String(buffer: response.body) == "{\"anomalies\":[],\"count\":0}")
            }
        }
        // The client left: its scorer goes with it once the server has seen the socket close.
        let deadline = ContinuousClock.now + .seconds(5)
        while server.appScorers.count > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.appScorers.count == 0)
    }
}

struct AppScoringTestError: Error {}

/// A seeded generator, so the random intervals are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49FB_1332_11EB
        return z ^ (z >> 31)
    }
}
