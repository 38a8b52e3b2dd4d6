import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Testing
import VoltCore
@testable import VoltServer

/// The real server on an ephemeral port, driven through hummingbird's live test client.
@Suite struct ServerTests {
    static func makeServer(token: String? = nil, configure: (inout VoltServerConfiguration) -> Void = { _ in }) -> VoltServer {
        var configuration = VoltServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.token = token
        configure(&configuration)
        return VoltServer(configuration: configuration, modelConfig: .default, modelConfigSource: "built-in defaults",
                          simulation: nil, logger: Logger(label: "test"))
    }

    static func result(seq: UInt32, volts: Double = 2.5, anomaly: Bool = false) -> AgentEvent {
        .result(device: "uno", ScoredResult(
            anomalyScore: anomaly ? 0.9 : 0.1, isAnomaly: anomaly, confidence: 0.8, timestampMs: 1_732_170_000_000 + Int64(seq) * 100,
            voltage: volts, seq: seq, severity: anomaly ? .critical : .normal, kinds: anomaly ? [.spike] : [],
            reasons: anomaly ? ["spike"] : []))
    }

    @Test func restEndpointsAnswerJSON() async throws {
        let server = Self.makeServer()
        server.hub.publish(.deviceStatus(DeviceStatus(device: "uno", state: .connected, path: "/dev/ttyACM0")))
        server.hub.publish(Self.result(seq: 1))
        var stream = EpisodeTracker()
        if case .result(let device, var result) = Self.result(seq: 2, volts: 4.9, anomaly: true) {
            let change = stream.observe(&result)
            server.hub.publish(.result(device: device, result))
            server.hub.publish(.episode(device: device, change))
        }
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"status\":\"healthy\""))
            }
            try await client.execute(uri: "/api/status", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"device\":\"uno\""))
                #expect(body.contains("\"path\":\"/dev/ttyACM0\""))
                #expect(body.contains("\"results\":2"))
            }
            try await client.execute(uri: "/api/anomalies?limit=5", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.hasPrefix("{\"anomalies\":[{"))
                #expect(body.contains("\"count\":1"))
                #expect(body.contains("\"peak_voltage\":4.9"))
                #expect(body.contains("\"kinds\":[\"spike\"]"))
                #expect(body.contains("\"open\":true"))
            }
            try await client.execute(uri: "/api/anomalies?limit=x", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).hasPrefix("{\"error\":"))
            }
            try await client.execute(uri: "/api/model", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"anomaly_threshold\""))
                #expect(body.contains("\"detectors\":[{\"enabled\":true,\"kind\":\"spike\""))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("voltwatch_results_total{device=\"uno\"} 2"))
                #expect(body.contains("voltwatch_anomalies_by_kind_total{kind=\"spike\"} 1"))
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).hasPrefix("{\"error\":"))
            }
            try await client.execute(uri: "/socket.io/?EIO=4&transport=polling", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("0{\"sid\":"))
            }
            try await client.execute(uri: "/socket.io/?EIO=3&transport=polling", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("EIO=4"))
            }
            try await client.execute(uri: "/ws", method: .get) { response in
                #expect(response.status == .upgradeRequired)
            }
        }
    }

    @Test func tokenIsRequiredEverywhereButHealth() async throws {
        let server = Self.makeServer(token: "s3cret")
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/health", method: .get) { #expect($0.status == .ok) }
            for uri in ["/api/status", "/api/anomalies", "/api/model", "/metrics"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized)
                    #expect(!String(buffer: response.body).contains("s3cret"))
                }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer wrong"]) {
                    #expect($0.status == .unauthorized)
                }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer s3cret"]) {
                    #expect($0.status == .ok)
                }
                try await client.execute(uri: uri + "?token=s3cret", method: .get) { #expect($0.status == .ok) }
            }
            // /ws without the token: an error event, then a policy-violation close.
            let close = try await client.ws("/ws") { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                let first = try await messages.next()
                guard case .text(let text)? = first else { Issue.record("expected an error event"); return }
                #expect(text.hasPrefix("{\"event\":\"error\""))
            }
            #expect(close?.closeCode == .policyViolation)
            _ = try await client.ws("/ws?token=s3cret") { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                let first = try await messages.next()
                guard case .text(let text)? = first else { Issue.record("expected hello"); return }
                #expect(text.hasPrefix("{\"event\":\"hello\""))
            }
        }
    }

    @Test func webSocketClientGetsHelloResultsAndAnswers() async throws {
        let server = Self.makeServer()
        let hub = server.hub
        try await server.makeApplication().test(.live) { client in
            _ = try await client.ws("/ws") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                let hello = try await messages.next()
                guard case .text(let helloText)? = hello else { Issue.record("expected hello"); return }
                #expect(helloText.contains("\"version\":\"\(VoltwatchVersion.string)\""))
                // Registered once hello arrived: publish now.
                hub.publish(Self.result(seq: 7))
                let result = try await messages.next()
                guard case .text(let resultText)? = result else { Issue.record("expected a result"); return }
                #expect(resultText.hasPrefix("{\"event\":\"anomaly_result\",\"data\":{\"anomaly_score\":0.1"))
                #expect(resultText.contains("\"seq\":7"))

                try await outbound.write(.text(#"{"event":"voltage_data","data":{"voltage":2.48}}"#))
                let answer = try await messages.next()
                guard case .text(let answerText)? = answer else { Issue.record("expected an answer"); return }
                #expect(answerText.contains("\"device\":\"app\""))
                #expect(answerText.contains("\"voltage\":2.48"))

                try await outbound.write(.text("not json"))
                let error = try await messages.next()
                guard case .text(let errorText)? = error else { Issue.record("expected an error"); return }
                #expect(errorText.hasPrefix("{\"event\":\"error\",\"data\":{\"message\":"))

                try await outbound.write(.text(#"{"event":"start_simulation","data":{"speed":2}}"#))
                let noSimulation = try await messages.next()
                guard case .text(let noSimText)? = noSimulation else { Issue.record("expected an error"); return }
                #expect(noSimText.contains("no fake device or replay runs"))

                // Still connected after the errors.
                hub.publish(Self.result(seq: 8))
                let next = try await messages.next()
                guard case .text(let nextText)? = next else { Issue.record("expected a result"); return }
                #expect(nextText.contains("\"seq\":8"))
            }
        }
    }

    @Test func oversizedMessageClosesThatClient() async throws {
        let server = Self.makeServer { $0.maxClientMessageBytes = 1024 }
        try await server.makeApplication().test(.live) { client in
            let close = try await client.ws("/ws") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                _ = try await messages.next()
                try await outbound.write(.text(String(repeating: "x", count: 4096)))
                while try await messages.next() != nil {}
            }
            #expect(close?.closeCode == .messageTooLarge)
        }
    }

    @Test func socketIOHandshakeEventsAndAcks() async throws {
        let server = Self.makeServer(token: "s3cret")
        let hub = server.hub
        try await server.makeApplication().test(.live) { client in
            try await client.ws("/socket.io/?EIO=4&transport=websocket") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                func next() async throws -> String {
                    guard case .text(let text)? = try await messages.next() else { throw SocketIOError("expected text") }
                    return text
                }
                let open = try await next()
                #expect(open.hasPrefix("0{\"sid\":\""))
                #expect(open.contains("\"upgrades\":[]"))
                try await outbound.write(.text("40{\"token\":\"s3cret\"}"))
                let connected = try await next()
                #expect(connected.hasPrefix("40{\"sid\":\""))
                let hello = try await next()
                #expect(hello.hasPrefix("42[\"hello\",{"))
                hub.publish(Self.result(seq: 3))
                let result = try await next()
                #expect(result.hasPrefix("42[\"anomaly_result\",{\"anomaly_score\""))
                try await outbound.write(.text("425[\"voltage_data\",{\"voltage\":3.3}]"))
                let answer = try await next()
                #expect(answer.hasPrefix("42[\"anomaly_result\","))
                #expect(answer.contains("\"device\":\"app\""))
                let ack = try await next()
                #expect(ack.hasPrefix("435[{\"anomaly_score\""))
                try await outbound.write(.text("41"))
            }
            // A wrong token in the auth payload: CONNECT_ERROR, then the connection closes.
            try await client.ws("/socket.io/?EIO=4&transport=websocket") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                _ = try await messages.next()
                try await outbound.write(.text("40{\"token\":\"nope\"}"))
                let refused = try await messages.next()
                guard case .text(let text)? = refused else { Issue.record("expected 44"); return }
                #expect(text == "44{\"message\":\"the token is not valid\"}")
                #expect(try await messages.next() == nil)
            }
        }
    }

    @Test func replayUploadSummaryWithLabels() async throws {
        let server = Self.makeServer()
        var text = "timestamp_ms,voltage,label\n"
        for i in 0..<200 {
            let spike = i == 150
            text += "\(1_732_170_000_000 + i * 100),\(spike ? 4.8 : 2.5 + Double(i % 3) * 0.001),\(spike ? 1 : 0)\n"
        }
        let csv = text
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/replay?summary=1", method: .post, body: ByteBuffer(string: csv)) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"format\":\"csv\""))
                #expect(body.contains("\"samples\":200"))
                #expect(body.contains("\"labels\":{\"precision\":"))
            }
            try await client.execute(uri: "/api/replay", method: .post, body: ByteBuffer(string: csv)) { response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.count == 200)
                #expect(lines.first?.hasPrefix("{\"anomaly_score\":") == true)
            }
            try await client.execute(uri: "/api/replay", method: .post, body: ByteBuffer(string: "time,foo\n1,2\n")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).hasPrefix("{\"error\":"))
            }
            // Bytes that are no trace at all: a 400 that says so, not an empty 200.
            for uri in ["/api/replay", "/api/replay?summary=1"] {
                try await client.execute(uri: uri, method: .post, body: ByteBuffer(bytes: [0x00, 0xFF, 0x24, 0x0A, 0x89, 0x50])) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("no line could be scored: 2 invalid lines"))
                }
            }
        }
        let small = Self.makeServer { $0.maxReplayUploadBytes = 100 }
        try await small.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/replay", method: .post, body: ByteBuffer(string: csv)) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }
}
