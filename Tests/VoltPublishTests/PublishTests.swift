import Testing
@testable import VoltCore
@testable import VoltPublish

/// The pure parts of publishing: the `"mqtt"` and `"webhooks"` settings, episode messages and
/// their templates, Home Assistant discovery payloads.
@Suite("Publish")
struct PublishTests {
    // MARK: Settings

    @Test func mqttSettingsParseAndRoundTrip() throws {
        let settings = try AgentSettings.parse(json: """
            {"mqtt": {"url": "mqtts://broker.lan", "username": "gw", "password_file": "mqtt-password",
                      "ca_file": "/etc/ca.pem", "protocol": "5", "keepalive": 5, "clean_session": false,
                      "result_rate": 2, "discovery": false, "gateway_id": "shed", "forget_after_hours": 0.5},
             "webhooks": [{"url": "http://127.0.0.1:9/hook", "template": "{\\"text\\": \\"{name}: {kinds}\\"}", "min_interval_seconds": 10},
                          {"url": "https://ntfy.lan/alerts", "ca_file": "/etc/voltwatch/lan-ca.pem"}]}
            """)
        let mqtt = try #require(settings.mqtt)
        #expect(mqtt.endpoint?.tls == true && mqtt.endpoint?.port == 8883 && mqtt.endpoint?.host == "broker.lan")
        #expect(mqtt.protocolVersion == "5" && mqtt.keepalive == 5 && !mqtt.cleanSession && mqtt.resultRate == 2 && !mqtt.discovery)
        #expect(mqtt.topicPrefix(hostName: "ignored") == "voltwatch/shed" && mqtt.forgetAfterHours == 0.5)
        #expect(settings.webhooks.count == 2 && settings.webhooks[0].minIntervalSeconds == 10)
        #expect(settings.webhooks[1].caFile == "/etc/voltwatch/lan-ca.pem" && settings.webhooks[0].caFile == nil)
        #expect(try AgentSettings.parse(json: settings.jsonText()) == settings)
    }

    @Test func badMqttSettingsNameTheKey() {
        let cases: [(String, String)] = [
            (#"{"mqtt": {"url": "http://x"}}"#, "mqtt.url"),
            (#"{"mqtt": {"url": "mqtt://x", "port": 1}}"#, "mqtt.port"),
            (#"{"mqtt": {"url": "mqtt://x", "keepalive": "5"}}"#, "mqtt.keepalive"),
            (#"{"mqtt": {"url": "mqtt://x", "protocol": "4"}}"#, "mqtt.protocol"),
            (#"{"mqtt": {"url": "mqtt://x", "discovery": 1}}"#, "mqtt.discovery"),
            (#"{"mqtt": {"url": "mqtt://x", "cert_file": "/c.pem"}}"#, "mqtt.key_file"),
            (#"{"mqtt": {"prefix": "a"}}"#, "mqtt.url"),
            (#"{"mqtt": {"url": "mqtt://x", "forget_after_hours": -1}}"#, "mqtt.forget_after_hours"),
            (#"{"mqtt": "mqtt://x"}"#, "mqtt"),
            (#"{"webhooks": [{"url": "ftp://x"}]}"#, "webhooks[0].url"),
            (#"{"webhooks": [{"url": "https://"}]}"#, "webhooks[0].url"),
            (#"{"webhooks": [{"url": "https://:443/x"}]}"#, "webhooks[0].url"),
            (#"{"webhooks": [{"url": "https://ntfy.sh/a b"}]}"#, "webhooks[0].url"),
            (#"{"webhooks": [{"url": "http://x", "ca_file": "/ca.pem"}]}"#, "webhooks[0].ca_file"),
            (#"{"webhooks": [{"url": "http://x", "retries": 3}]}"#, "webhooks[0].retries"),
            (#"{"webhooks": {"url": "http://x"}}"#, "webhooks"),
        ]
        for (text, key) in cases {
            do {
                _ = try AgentSettings.parse(json: text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.issues.contains { $0.key == key }, "\(text): \(error.issues)")
            }
        }
    }

    @Test func mqttURLs() {
        #expect(MQTTSettings.endpoint("mqtt://127.0.0.1:1884")! == (false, "127.0.0.1", 1884))
        #expect(MQTTSettings.endpoint("mqtt://[::1]")! == (false, "::1", 1883))
        #expect(MQTTSettings.endpoint("mqtt://user:pw@host") == nil)
        #expect(MQTTSettings.endpoint("mqtt://host:0") == nil)
        #expect(MQTTSettings.endpoint("tcp://host") == nil)
    }

    // MARK: Episodes

    func episode() -> EpisodeMessage {
        let episode = AlarmEpisode(id: 3, startMs: 1_732_170_000_100, endMs: 1_732_170_004_300, peakScore: 0.998,
                                   kinds: [.dip], reasons: ["dip: 1.696 V is \"low\""], samples: 43, isOpen: false)
        return EpisodeMessage(event: .end, device: "board/A1", episode: episode, peakVoltage: 1.696, severity: .critical,
                              name: "House battery", unit: "V")
    }

    @Test func episodeJSONIsTheAnomaliesEntryWithItsEvent() throws {
        let json = episode().json
        let value = try JSONValue.parse(Array(json.utf8))
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        for key in ["event", "device", "id", "start", "end", "duration_seconds", "peak_score", "peak_voltage", "severity",
                    "kinds", "reasons", "samples", "open", "name", "unit"] {
            #expect(object[key] != nil, "\(key) missing")
        }
        #expect(object["event"] == .string("end") && object["start"] == .number(1_732_170_000.1))
    }

    @Test func templatesFillPlaceholdersAsJSONStringContent() throws {
        let body = episode().render(#"{"title": "{name} {event}", "message": "{kinds} {severity}: {reasons} peak {peak} at {start}", "x": "{unknown}"}"#)
        #expect(body.contains(#""title": "House battery end""#))
        #expect(body.contains(#"dip critical: dip: 1.696 V is \"low\" peak 1.696 at 1732170000.1"#))
        #expect(body.contains(#""x": "{unknown}""#))
        _ = try JSONValue.parse(Array(body.utf8))
    }

    // MARK: Home Assistant discovery

    /// The keys of Home Assistant's MQTT sensor and binary_sensor platforms
    /// (https://www.home-assistant.io/integrations/sensor.mqtt/, .../binary_sensor.mqtt/) a
    /// discovery payload may use here, and those it must have.
    static let required = ["state_topic", "unique_id", "name", "device", "availability_topic"]
    static let sensorKeys: Set<String> = ["name", "state_topic", "unique_id", "object_id", "value_template", "unit_of_measurement",
                                          "device_class", "state_class", "availability_topic", "payload_available",
                                          "payload_not_available", "device", "entity_category"]
    static let binarySensorKeys: Set<String> = ["name", "state_topic", "unique_id", "object_id", "value_template", "payload_on",
                                                "payload_off", "device_class", "availability_topic", "payload_available",
                                                "payload_not_available", "device", "entity_category"]
    static let deviceKeys: Set<String> = ["identifiers", "name", "manufacturer", "model", "sw_version"]

    @Test func discoveryPayloadsFollowTheDocumentedSchema() throws {
        let configs = DiscoveryConfig.entities(stream: "board/A1", name: "House battery", unit: "V", prefix: "voltwatch/gw",
                                               gatewayID: "gw", discoveryPrefix: "homeassistant", firmware: "1.1.0")
        #expect(configs.map(\.topic) == [
            "homeassistant/sensor/voltwatch_gw/board_A1_voltage/config",
            "homeassistant/sensor/voltwatch_gw/board_A1_score/config",
            "homeassistant/binary_sensor/voltwatch_gw/board_A1_anomaly/config",
            "homeassistant/binary_sensor/voltwatch_gw/board_A1_connected/config",
        ])
        var uniques: Set<String> = []
        for config in configs {
            guard case .object(let object) = try JSONValue.parse(Array(config.payload.utf8)) else { Issue.record("not an object"); continue }
            let allowed = config.topic.contains("/binary_sensor/") ? Self.binarySensorKeys : Self.sensorKeys
            #expect(Set(object.keys).isSubset(of: allowed), "\(config.topic): \(Set(object.keys).subtracting(allowed))")
            for key in Self.required { #expect(object[key] != nil, "\(config.topic) lacks \(key)") }
            guard case .object(let device)? = object["device"], case .string(let unique)? = object["unique_id"] else { continue }
            #expect(Set(device.keys) == Self.deviceKeys)
            #expect(device["manufacturer"] == .string("voltwatch"))
            uniques.insert(unique)
            if config.topic.contains("/binary_sensor/") {
                #expect(object["payload_on"] == .string("ON") && object["payload_off"] == .string("OFF"))
            }
        }
        #expect(uniques.count == 4)
        let voltage = configs[0].payload
        #expect(voltage.contains(#""device_class":"voltage""#) && voltage.contains(#""unit_of_measurement":"V""#))
        #expect(configs[2].payload.contains(#""device_class":"problem""#))
        #expect(configs[3].payload.contains(#""state_topic":"voltwatch/gw/board/state""#), "connectivity follows the board")
        let amps = DiscoveryConfig.entities(stream: "b/A2", name: nil, unit: "A", prefix: "p", gatewayID: "gw",
                                            discoveryPrefix: "homeassistant", firmware: nil)[0].payload
        #expect(!amps.contains("device_class") && amps.contains(#""unit_of_measurement":"A""#))
        #expect(DiscoveryConfig.removals(of: configs).allSatisfy { $0.payload.isEmpty })
    }
}
