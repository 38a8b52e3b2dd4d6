import Testing
@testable import VoltServer

@Suite struct SocketIOPacketTests {
    @Test(arguments: [
        ("2", EngineIOPacket.ping(payload: "")),
        ("3", .pong(payload: "")),
        ("1", .close),
        ("6", .noop),
        ("40", .message(SocketIOPacket(.connect))),
        ("40{\"token\":\"t\"}", .message(SocketIOPacket(.connect, payload: "{\"token\":\"t\"}"))),
        ("41", .message(SocketIOPacket(.disconnect))),
        ("42[\"voltage_data\",{\"voltage\":2.5}]", .message(SocketIOPacket(.event, payload: "[\"voltage_data\",{\"voltage\":2.5}]"))),
        ("4212[\"x\"]", .message(SocketIOPacket(.event, id: 12, payload: "[\"x\"]"))),
        ("42/admin,7[\"x\"]", .message(SocketIOPacket(.event, namespace: "/admin", id: 7, payload: "[\"x\"]"))),
        ("40/admin,", .message(SocketIOPacket(.connect, namespace: "/admin"))),
        ("431[1]", .message(SocketIOPacket(.ack, id: 1, payload: "[1]"))),
    ])
    func parsesAndWritesBack(text: String, packet: EngineIOPacket) throws {
        let parsed = try EngineIOPacket.parse(Substring(text))
        #expect(parsed == packet)
        #expect(parsed.text == text)
    }

    @Test(arguments: ["", "9", "4", "49", "451-[\"x\",{\"_placeholder\":true,\"num\":0}]"])
    func rejects(text: String) {
        #expect(throws: SocketIOError.self) { try EngineIOPacket.parse(Substring(text)) }
    }
}

@Suite struct SocketIOSessionTests {
    let configuration = SocketIOSession.Configuration(pingIntervalMs: 1_000, pingTimeoutMs: 500, maxPayload: 1024)

    func session() -> SocketIOSession {
        SocketIOSession(engineSID: "E", socketSID: "S", configuration: configuration, nowMs: 0)
    }

    @Test func openPacketAdvertisesWebSocketOnly() {
        #expect(session().openPacket() == "0{\"sid\":\"E\",\"upgrades\":[],\"pingInterval\":1000,\"pingTimeout\":500,\"maxPayload\":1024}")
        // A polling session offers the move to a websocket.
        #expect(session().openPacket(upgrades: ["websocket"]).hasPrefix("0{\"sid\":\"E\",\"upgrades\":[\"websocket\"],"))
    }

    @Test func connectAsksForAuthorizationThenJoins() {
        var s = session()
        #expect(s.receive("40{\"token\":\"secret\"}") == [.authorize(authToken: "secret")])
        #expect(s.phase == .authorizing)
        #expect(s.accept() == [.send("40{\"sid\":\"S\"}")])
        #expect(s.phase == .connected)
        #expect(s.receive("42[\"voltage_data\",{\"voltage\":2.5}]") == [.request(.voltageData(volts: 2.5, timestampMs: nil), ackID: nil)])
        #expect(s.receive("423[\"stop_simulation\"]") == [.request(.stopSimulation, ackID: 3)])
        #expect(s.ack(3, dataJSON: "{}") == "433[{}]")
    }

    @Test func connectWithoutAuthPayload() {
        var s = session()
        #expect(s.receive("40") == [.authorize(authToken: nil)])
    }

    @Test func refusedConnectSendsConnectErrorAndCloses() {
        var s = session()
        _ = s.receive("40")
        let actions = s.refuse("the token is not valid")
        #expect(actions == [.send("44{\"message\":\"the token is not valid\"}"), .close(reason: "the token is not valid")])
        #expect(s.phase == .closed)
    }

    @Test func otherNamespacesAreRefused() {
        var s = session()
        #expect(s.receive("40/admin,") == [.send("44/admin,{\"message\":\"Invalid namespace\"}")])
        #expect(s.phase == .awaitingConnect)
    }

    @Test func eventsBeforeConnectAreIgnored() {
        var s = session()
        #expect(s.receive("42[\"voltage_data\",{\"voltage\":1}]") == [])
    }

    @Test func badEventsAnswerErrorAndKeepTheConnection() {
        var s = session()
        _ = s.receive("40")
        _ = s.accept()
        let actions = s.receive("42[\"nope\",{}]")
        guard case .send(let text)? = actions.first else { Issue.record("expected an error event"); return }
        #expect(text.hasPrefix("42[\"error\",{\"message\":\"unknown event 'nope'"))
        #expect(s.phase == .connected)
        #expect(s.receive("42not json").count == 1)
        #expect(s.phase == .connected)
    }

    @Test func heartbeatPingsAtTheIntervalAndClosesWithoutPong() {
        var s = session()
        #expect(s.tick(nowMs: 999) == [])
        #expect(s.tick(nowMs: 1_000) == [.send("2")])
        #expect(s.nextDeadlineMs == 1_500)
        #expect(s.receive("3") == [])
        #expect(s.nextDeadlineMs == 2_000)
        #expect(s.tick(nowMs: 2_000) == [.send("2")])
        #expect(s.tick(nowMs: 2_499) == [])
        #expect(s.tick(nowMs: 2_500) == [.close(reason: "ping timeout")])
        #expect(s.phase == .closed)
    }

    @Test func disconnectAndEngineCloseEndTheSession() {
        var a = session()
        _ = a.receive("40"); _ = a.accept()
        #expect(a.receive("41") == [.close(reason: "client disconnected")])
        var b = session()
        #expect(b.receive("1") == [.close(reason: "client closed the session")])
    }
}
