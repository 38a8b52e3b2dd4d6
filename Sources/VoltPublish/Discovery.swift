public import VoltCore

/// Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
/// for each stream a voltage sensor, a score sensor, an anomaly binary_sensor (device_class
/// problem) and a connectivity binary_sensor, at
/// `<discovery prefix>/<component>/<node id>/<object id>/config`, retained.
public struct DiscoveryConfig: Sendable, Equatable {
    public var topic: String
    /// The JSON config; empty removes the entity.
    public var payload: String

    /// A topic level made of `[A-Za-z0-9_-]` (Home Assistant's rule for node and object ids).
    public static func slug(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (scalar.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == "_" ? c : "_"
        })
    }

    /// The device a stream belongs to: `board` of `board/A1`, the stream itself for a
    /// single-signal board (its state topic says whether it is connected).
    public static func board(of stream: String) -> String {
        String(stream.split(separator: "/", maxSplits: 1).first ?? Substring(stream))
    }

    /// The four entities of `stream`. `board` is the device id the stream belongs to (its state
    /// topic says whether it is connected).
    public static func entities(stream: String, name: String?, unit: String, prefix: String, gatewayID: String,
                                discoveryPrefix: String, firmware: String?) -> [DiscoveryConfig] {
        let board = Self.board(of: stream)
        let node = slug("voltwatch_\(gatewayID)")
        let object = slug(stream)
        let base = "\(prefix)/\(stream)"
        let label = name ?? stream
        var device = "{\"identifiers\":[\(JSONText.string("voltwatch_\(gatewayID)_\(stream)"))],"
        device += "\"name\":\(JSONText.string("\(label) (\(gatewayID))")),\"manufacturer\":\"voltwatch\","
        device += "\"model\":\(JSONText.string(firmware.map { "Arduino voltage stream, firmware \($0)" } ?? "Arduino voltage stream")),"
        device += "\"sw_version\":\(JSONText.string(VoltwatchVersion.string))}"
        let common = "\"availability_topic\":\(JSONText.string("\(prefix)/status")),\"payload_available\":\"online\",\"payload_not_available\":\"offline\",\"device\":\(device)"
        func config(_ component: String, _ suffix: String, _ fields: String) -> DiscoveryConfig {
            let unique = "voltwatch_\(slug(gatewayID))_\(object)_\(suffix)"
            return DiscoveryConfig(
                topic: "\(discoveryPrefix)/\(component)/\(node)/\(object)_\(suffix)/config",
                payload: "{" + fields + ",\"unique_id\":\(JSONText.string(unique)),\"object_id\":\(JSONText.string(unique)),\(common)}")
        }
        var voltage = "\"name\":\(JSONText.string(unit == "V" ? "Voltage" : "Value")),\"state_topic\":\(JSONText.string("\(base)/result")),"
        voltage += "\"value_template\":\"{{ value_json.voltage }}\",\"unit_of_measurement\":\(JSONText.string(unit)),\"state_class\":\"measurement\""
        if unit == "V" { voltage += ",\"device_class\":\"voltage\"" }
        let score = "\"name\":\"Anomaly score\",\"state_topic\":\(JSONText.string("\(base)/result")),\"value_template\":\"{{ value_json.anomaly_score }}\",\"state_class\":\"measurement\""
        let anomaly = "\"name\":\"Anomaly\",\"state_topic\":\(JSONText.string("\(base)/anomaly")),\"value_template\":\"{{ 'ON' if value_json.open else 'OFF' }}\",\"payload_on\":\"ON\",\"payload_off\":\"OFF\",\"device_class\":\"problem\""
        let connectivity = "\"name\":\"Connected\",\"state_topic\":\(JSONText.string("\(prefix)/\(board)/state")),\"value_template\":\"{{ 'ON' if value_json.state == 'connected' else 'OFF' }}\",\"payload_on\":\"ON\",\"payload_off\":\"OFF\",\"device_class\":\"connectivity\",\"entity_category\":\"diagnostic\""
        return [
            config("sensor", "voltage", voltage),
            config("sensor", "score", score),
            config("binary_sensor", "anomaly", anomaly),
            config("binary_sensor", "connected", connectivity),
        ]
    }

    /// The same topics with empty payloads: Home Assistant removes the entities.
    public static func removals(of configs: [DiscoveryConfig]) -> [DiscoveryConfig] {
        configs.map { DiscoveryConfig(topic: $0.topic, payload: "") }
    }
}

/// `<prefix>/<device>/state`: the device status as `device_status` says it on /ws, plus the
/// stream health `/api/status` reports.
public enum StatePayload {
    public static func json(_ status: DeviceStatus, counters: StreamCounters?) -> String {
        var out = String(status.json.dropLast())
        if let c = counters {
            out += ",\"frames\":\(c.frames),\"lost\":\(c.lost),\"invalid\":\(c.invalid.total),\"anomalies\":\(c.anomalies)"
            out += ",\"last_received\":" + (c.lastReceivedMs.map { JSONText.number(Double($0) / 1000) } ?? "null")
        }
        return out + "}"
    }
}
