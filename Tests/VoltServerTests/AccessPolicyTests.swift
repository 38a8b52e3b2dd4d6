import Testing
@testable import VoltServer

@Suite struct AccessPolicyTests {
    let policy = AccessPolicy(token: "s3cret", allowedOrigins: ["https://dash.example/"])

    @Test func noTokenConfiguredAllowsEveryone() {
        #expect(AccessPolicy(token: nil).authorize(authorization: nil, queryToken: nil) == nil)
        #expect(AccessPolicy(token: "").requiresToken == false)
    }

    @Test func acceptsEachWayOfSendingTheToken() {
        #expect(policy.authorize(authorization: "Bearer s3cret", queryToken: nil) == nil)
        #expect(policy.authorize(authorization: "bearer  s3cret", queryToken: nil) == nil)
        #expect(policy.authorize(authorization: nil, queryToken: "s3cret") == nil)
        #expect(policy.authorize(authorization: nil, queryToken: nil, authToken: "s3cret") == nil)
    }

    @Test func refusesMissingAndWrongTokens() {
        #expect(policy.authorize(authorization: nil, queryToken: nil) == .missingToken)
        #expect(policy.authorize(authorization: "Basic czNjcmV0", queryToken: nil) == .missingToken)
        #expect(policy.authorize(authorization: "Bearer s3cre", queryToken: nil) == .wrongToken)
        #expect(policy.authorize(authorization: "Bearer s3cret!", queryToken: nil) == .wrongToken)
        #expect(policy.authorize(authorization: nil, queryToken: "", authToken: nil) == .missingToken)
    }

    @Test func neverShowsTheToken() {
        for text in ["\(policy)", "\(AccessPolicy.Denial.wrongToken)", "\(AccessPolicy.Denial.missingToken)"] {
            #expect(!text.contains("s3cret"))
        }
    }

    @Test func originAllowList() {
        #expect(policy.checkOrigin(nil) == nil)
        #expect(policy.checkOrigin("https://DASH.example") == nil)
        #expect(policy.checkOrigin("https://evil.example") == .originNotAllowed("https://evil.example"))
        #expect(AccessPolicy(token: nil).checkOrigin("https://anything") == nil)
        #expect(AccessPolicy(token: nil, allowedOrigins: ["*"]).checkOrigin("https://anything") == nil)
    }

    @Test func constantTimeCompare() {
        #expect(AccessPolicy.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AccessPolicy.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AccessPolicy.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AccessPolicy.constantTimeEqual([], Array("a".utf8)))
    }
}

@Suite struct ClientRequestTests {
    @Test func voltageData() throws {
        #expect(try ClientRequest.parse(webSocketText: Array(#"{"event":"voltage_data","data":{"voltage":2.5}}"#.utf8))
            == .voltageData(volts: 2.5, timestampMs: nil))
        #expect(try ClientRequest.parse(webSocketText: Array(#"{"event":"voltage_data","data":{"voltage":2.5,"timestamp":1732170000.123}}"#.utf8))
            == .voltageData(volts: 2.5, timestampMs: 1_732_170_000_123))
        #expect(try ClientRequest.parse(socketIOPayload: #"["voltage_data",{"voltage":1,"timestamp":1732170000123}]"#)
            == .voltageData(volts: 1, timestampMs: 1_732_170_000_123))
    }

    @Test func simulationControls() throws {
        #expect(try ClientRequest.parse(socketIOPayload: #"["start_simulation",{"speed":2,"scenario":"spikes"}]"#)
            == .startSimulation(speed: 2, scenario: "spikes"))
        #expect(try ClientRequest.parse(socketIOPayload: #"["start_simulation"]"#) == .startSimulation(speed: nil, scenario: nil))
        #expect(try ClientRequest.parse(webSocketText: Array(#"{"event":"reset_simulation"}"#.utf8)) == .resetSimulation)
    }

    @Test(arguments: [
        "not json", "[]", #"{"data":{}}"#, #"{"event":"voltage_data"}"#, #"{"event":"voltage_data","data":{"voltage":"x"}}"#,
        #"{"event":"start_simulation","data":{"speed":-1}}"#, #"{"event":"hack","data":{}}"#,
    ])
    func malformed(text: String) {
        #expect(throws: ClientMessageError.self) { try ClientRequest.parse(webSocketText: Array(text.utf8)) }
    }
}
