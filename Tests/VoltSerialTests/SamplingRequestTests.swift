import Testing
import VoltCore
@testable import VoltSerial

/// The settings say what a board should sample; the agent asks with `$SET` when the board's
/// `$HELLO` says otherwise, and does not nag a board that will not listen.
@Suite("SamplingRequest")
struct SamplingRequestTests {
    static func hello(_ channels: String?, period: Int = 100) -> Hello {
        Hello(firmware: "voltage_monitor", version: "1.1.0", board: "uno", vrefMillivolts: 5000, adcBits: 10,
              periodMs: period, channels: channels.flatMap { AnalogChannel.parseSet($0) })
    }

    static let threeChannels = BoardSampling(channels: AnalogChannel.parseSet("A0+A1+A2")!, periodMs: 100)

    @Test func aBoardSamplingOtherwiseIsAskedOnceWithAChecksummedSet() throws {
        var request = SamplingRequest()
        let command = request.command(hello: Self.hello("A0"), wanted: Self.threeChannels)
        #expect(command == FrameParser.sentence("SET,A0+A1+A2,100"))
        let twice = request.command(hello: Self.hello("A0"), wanted: Self.threeChannels)
        #expect(twice == nil, "the same hello is not asked twice")
        let obeyed = request.command(hello: Self.hello("A0+A1+A2"), wanted: Self.threeChannels)
        #expect(obeyed == nil, "the board obeyed")
    }

    @Test func oldFirmwareCountsAsA0AndAPeriodAloneIsAChange() {
        var request = SamplingRequest()
        let same = request.command(hello: Self.hello(nil), wanted: BoardSampling(channels: [.a0]))
        #expect(same == nil)
        let command = request.command(hello: Self.hello(nil), wanted: BoardSampling(channels: [.a0], periodMs: 250))
        #expect(command == FrameParser.sentence("SET,A0,250"))
    }

    @Test func aBoardThatKeepsRefusingIsAskedAtMostThreeTimesUntilTheWishChanges() {
        var request = SamplingRequest()
        var asked = 0
        for reboot in 0..<10 {
            // Each reboot says hello again, still on A0 (say, a different uptime-free hello).
            if request.command(hello: Self.hello("A0", period: 100 + reboot), wanted: Self.threeChannels) != nil { asked += 1 }
        }
        #expect(asked == SamplingRequest.maxAttempts)
        let fewer = BoardSampling(channels: AnalogChannel.parseSet("A0+A1")!, periodMs: 100)
        let again = request.command(hello: Self.hello("A0", period: 109), wanted: fewer)
        #expect(again != nil, "a reload with a new wish asks again")
    }

    @Test func boardsAreReadFromTheSettingsAndRefusedWhenWrong() throws {
        let settings = try AgentSettings.parse(json: #"{"boards": {"uno-1": {"channels": ["A2", "A0"], "period_ms": 250}}}"#)
        #expect(settings.boards["uno-1"] == BoardSampling(channels: AnalogChannel.parseSet("A0+A2")!, periodMs: 250))
        #expect(try AgentSettings.parse(json: settings.jsonText()) == settings)
        do {
            _ = try AgentSettings.parse(json: #"{"boards": {"uno-1/A0": {"channels": "A0"}, "uno-2": {"channels": "A0+A7", "period_ms": 5}}}"#)
            Issue.record("accepted bad boards")
        } catch {
            #expect(Set(error.issues.compactMap(\.key)) == ["boards.uno-1/A0", "boards.uno-2.channels", "boards.uno-2.period_ms"])
        }
    }
}
