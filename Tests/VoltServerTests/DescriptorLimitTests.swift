import Testing
@testable import VoltServer

/// The server raises its soft descriptor limit as far as its connection limits need and the
/// hard limit allows, and says how many clients fit when that is not enough.
@Suite struct DescriptorLimitTests {
    @Test func everyConnectionNeedsOneDescriptor() {
        // The defaults: 2,000 clients and 256 more connections for the HTTP API.
        #expect(DescriptorLimit.needed(maxClients: 2_000, maxConnections: 2_256) == 2_256 + 64)
        #expect(DescriptorLimit.needed(maxClients: 0, maxConnections: 0) == UInt64(DescriptorLimit.reserve))
    }

    @Test func theSoftLimitIsRaisedToWhatIsNeededWithinTheHardLimit() {
        let shell = DescriptorLimit(soft: 1_024, hard: 524_288)
        #expect(shell.raised(toServe: 4_320) == DescriptorLimit(soft: 4_320, hard: 524_288))
        let tight = DescriptorLimit(soft: 1_024, hard: 2_048)
        #expect(tight.raised(toServe: 4_320) == DescriptorLimit(soft: 2_048, hard: 2_048))
    }

    @Test func aLimitAlreadyHighEnoughIsNeverLowered() {
        let unit = DescriptorLimit(soft: 8_192, hard: 8_192)
        #expect(unit.raised(toServe: 4_320) == unit)
        let generous = DescriptorLimit(soft: 20_000, hard: 1_048_576)
        #expect(generous.raised(toServe: 4_320) == generous)
    }

    @Test func aShortLimitSaysHowManyClientsFitAndWhatToChange() throws {
        let tight = DescriptorLimit(soft: 1_024, hard: 1_024)
        #expect(tight.clientsServed == 1_024 - 64)
        let message = try #require(tight.shortfall(needed: 2_320, maxClients: 2_000))
        #expect(message.contains("limit is 1024 (hard limit 1024)"))
        #expect(message.contains("about 960 of the 2000 clients"))
        #expect(message.contains("ulimit -n 2320"))
        #expect(message.contains("LimitNOFILE="))
        #expect(message.contains("--max-clients"))
        #expect(DescriptorLimit(soft: 2_320, hard: 2_320).shortfall(needed: 2_320, maxClients: 2_000) == nil)
    }

    @Test func theProcessLimitReadsAndSetsItself() throws {
        let limit = try #require(DescriptorLimit.current())
        #expect(limit.soft <= limit.hard)
        #expect(limit.apply() == 0)
        #expect(DescriptorLimit.current() == limit)
    }
}
