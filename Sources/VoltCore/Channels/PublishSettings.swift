/// The settings file's `"mqtt"` object: where and how the agent publishes over MQTT
/// (docs/mqtt.md). Pure: parsing and validation only; the publisher (VoltPublish) connects.
///
/// ```json
/// {"mqtt": {"url": "mqtts://broker.lan:8883", "username": "gw1", "password_file": "mqtt-password",
///           "ca_file": "/etc/voltwatch/ca.pem", "protocol": "5", "keepalive": 30,
///           "result_rate": 1, "discovery": true}}
/// ```
public struct MQTTSettings: Sendable, Equatable {
    /// `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883, TLS).
    public var url: String
    /// Topic prefix; nil: `voltwatch/<gateway id>`.
    public var prefix: String?
    /// Names this gateway in the prefix and in Home Assistant; nil: the host name.
    public var gatewayID: String?
    public var username: String?
    /// A file holding the password (its first line); relative paths are looked up in systemd's
    /// `$CREDENTIALS_DIRECTORY` first (`LoadCredential=`).
    public var passwordFile: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// `"3.1.1"` or `"5"`.
    public var protocolVersion: String = "3.1.1"
    /// Seconds between keepalive pings (5 at least); the broker publishes the will after 1.5 times this.
    public var keepalive: Int = 30
    /// Clean session (the default) or a persistent one the broker keeps across reconnects.
    public var cleanSession = true
    /// Results per second per stream at most on `<prefix>/<stream>/result`; nil: every result;
    /// 0: none (state and anomalies only).
    public var resultRate: Double?
    /// Home Assistant MQTT discovery.
    public var discovery = true
    public var discoveryPrefix = "homeassistant"
    /// A stream that sent nothing for this many hours (a board unplugged for good, a channel
    /// taken out of its set) has its Home Assistant entities removed; it comes back with its
    /// first result. 0: never.
    public var forgetAfterHours: Double = 24

    public init(url: String) { self.url = url }

    public static let knownKeys = [
        "url", "prefix", "gateway_id", "username", "password_file", "ca_file", "cert_file", "key_file",
        "protocol", "keepalive", "clean_session", "result_rate", "discovery", "discovery_prefix", "forget_after_hours",
    ]

    /// Scheme, host and port of ``url``; nil when it is not an MQTT URL.
    public var endpoint: (tls: Bool, host: String, port: Int)? { Self.endpoint(url) }

    public static func endpoint(_ url: String) -> (tls: Bool, host: String, port: Int)? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) }
        else if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) }
        else { return nil }
        var hostPort = rest
        if hostPort.hasSuffix("/") { hostPort = hostPort.dropLast() }
        guard !hostPort.isEmpty, !hostPort.contains("/"), !hostPort.contains("@"), !hostPort.contains(" ") else { return nil }
        var host = String(hostPort)
        var port = tls ? 8883 : 1883
        if hostPort.hasPrefix("[") {
            // [::1]:1883
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            host = String(hostPort[..<colon])
            port = p
        }
        return host.isEmpty ? nil : (tls, host, port)
    }

    /// The topic prefix in force for `hostName`.
    public func topicPrefix(hostName: String) -> String {
        prefix ?? "voltwatch/\(gatewayID ?? hostName)"
    }

    static func parse(_ value: JSONValue, path: String, issues: inout [ConfigError.Issue]) -> MQTTSettings? {
        guard case .object(let object) = value else {
            issues.append(.init(key: path, message: "must be an object with url and the other MQTT settings, not \(value.typeName)"))
            return nil
        }
        let before = issues.count
        let reader = FieldReader(object: object, path: path, known: knownKeys)
        reader.checkUnknown(&issues)
        guard let url = reader.string("url", &issues) else {
            if object["url"] == nil { issues.append(.init(key: "\(path).url", message: "is required: mqtt://host[:port] or mqtts://host[:port]")) }
            return nil
        }
        if endpoint(url) == nil {
            issues.append(.init(key: "\(path).url", message: "must be mqtt://host[:port] or mqtts://host[:port] (no user or password: use username and password_file)"))
        }
        var settings = MQTTSettings(url: url)
        settings.prefix = reader.string("prefix", &issues)
        if let prefix = settings.prefix, prefix.isEmpty || prefix.hasSuffix("/") || prefix.contains("+") || prefix.contains("#") {
            issues.append(.init(key: "\(path).prefix", message: "must be a topic without wildcards (+, #) or a trailing /"))
        }
        settings.gatewayID = reader.string("gateway_id", &issues)
        if let id = settings.gatewayID, id.isEmpty || id.contains("/") || id.contains("+") || id.contains("#") {
            issues.append(.init(key: "\(path).gateway_id", message: "must be one topic level: no /, + or #"))
        }
        settings.username = reader.string("username", &issues)
        settings.passwordFile = reader.string("password_file", &issues)
        settings.caFile = reader.string("ca_file", &issues)
        settings.certFile = reader.string("cert_file", &issues)
        settings.keyFile = reader.string("key_file", &issues)
        if (settings.certFile == nil) != (settings.keyFile == nil) {
            issues.append(.init(key: "\(path).\(settings.certFile == nil ? "cert_file" : "key_file")", message: "cert_file and key_file go together (a client certificate and its key)"))
        }
        if let version = reader.string("protocol", &issues) {
            if version == "3.1.1" || version == "5" { settings.protocolVersion = version } else {
                issues.append(.init(key: "\(path).protocol", message: "must be \"3.1.1\" or \"5\""))
            }
        }
        if let keepalive = reader.number("keepalive", &issues) {
            if keepalive >= 5, keepalive <= 65535, keepalive == keepalive.rounded() { settings.keepalive = Int(keepalive) } else {
                issues.append(.init(key: "\(path).keepalive", message: "must be a whole number of seconds from 5 (libmosquitto's least) to 65535"))
            }
        }
        if let clean = reader.bool("clean_session", &issues) { settings.cleanSession = clean }
        if let rate = reader.number("result_rate", &issues) {
            if rate >= 0, rate <= 1000 { settings.resultRate = rate } else {
                issues.append(.init(key: "\(path).result_rate", message: "must be results per second per stream, from 0 to 1000"))
            }
        }
        if let discovery = reader.bool("discovery", &issues) { settings.discovery = discovery }
        if let prefix = reader.string("discovery_prefix", &issues) {
            if prefix.isEmpty || prefix.contains("+") || prefix.contains("#") {
                issues.append(.init(key: "\(path).discovery_prefix", message: "must be a topic without wildcards"))
            } else { settings.discoveryPrefix = prefix }
        }
        if let hours = reader.number("forget_after_hours", &issues) {
            if hours >= 0, hours <= 8_760 { settings.forgetAfterHours = hours } else {
                issues.append(.init(key: "\(path).forget_after_hours", message: "must be hours from 0 (never) to 8760"))
            }
        }
        return issues.count == before ? settings : nil
    }

    /// One line of JSON, keys in ``knownKeys`` order; parsing it back gives the same settings.
    public func jsonText() -> String {
        var fields = ["\"url\": \(JSONText.string(url))"]
        func add(_ key: String, _ value: String?) { if let value { fields.append("\"\(key)\": \(JSONText.string(value))") } }
        add("prefix", prefix)
        add("gateway_id", gatewayID)
        add("username", username)
        add("password_file", passwordFile)
        add("ca_file", caFile)
        add("cert_file", certFile)
        add("key_file", keyFile)
        if protocolVersion != "3.1.1" { add("protocol", protocolVersion) }
        if keepalive != 30 { fields.append("\"keepalive\": \(keepalive)") }
        if !cleanSession { fields.append("\"clean_session\": false") }
        if let resultRate { fields.append("\"result_rate\": \(JSONText.number(resultRate))") }
        if !discovery { fields.append("\"discovery\": false") }
        if discoveryPrefix != "homeassistant" { add("discovery_prefix", discoveryPrefix) }
        if forgetAfterHours != 24 { fields.append("\"forget_after_hours\": \(JSONText.number(forgetAfterHours))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

/// One entry of the settings file's `"webhooks"` array: a URL POSTed on each alarm episode's
/// start and end.
public struct WebhookSettings: Sendable, Equatable {
    /// An `http://` or `https://` URL.
    public var url: String
    /// PEM trust roots for an https receiver with a private CA; nil: the system's.
    public var caFile: String?
    /// The body, with `{device}`, `{name}`, `{kinds}`, `{severity}`, `{reasons}`, `{start}`,
    /// `{end}`, `{peak}`, `{event}`, `{id}` replaced; nil: the episode JSON.
    public var template: String?
    /// At most one POST per device this often; events in between are counted, not sent.
    public var minIntervalSeconds: Double = 60

    public init(url: String, template: String? = nil, minIntervalSeconds: Double = 60) {
        self.url = url
        self.template = template
        self.minIntervalSeconds = minIntervalSeconds
    }

    public static let knownKeys = ["url", "template", "min_interval_seconds", "ca_file"]

    static func parseList(_ value: JSONValue, issues: inout [ConfigError.Issue]) -> [WebhookSettings] {
        guard case .array(let items) = value else {
            issues.append(.init(key: "webhooks", message: "must be an array of {\"url\", \"template\"?, \"min_interval_seconds\"?}, not \(value.typeName)"))
            return []
        }
        var hooks: [WebhookSettings] = []
        for (index, item) in items.enumerated() {
            let path = "webhooks[\(index)]"
            guard case .object(let object) = item else {
                issues.append(.init(key: path, message: "must be an object with url, template, min_interval_seconds; not \(item.typeName)"))
                continue
            }
            let before = issues.count
            let reader = FieldReader(object: object, path: path, known: knownKeys)
            reader.checkUnknown(&issues)
            guard let url = reader.string("url", &issues) else {
                if object["url"] == nil { issues.append(.init(key: "\(path).url", message: "is required")) }
                continue
            }
            // Said at start (exit 78) or on reload, not discovered at the first alarm.
            if !Self.isWebURL(url) {
                issues.append(.init(key: "\(path).url", message: "must be an http:// or https:// URL with a host, like https://ntfy.sh/my-topic"))
            }
            var hook = WebhookSettings(url: url)
            hook.template = reader.string("template", &issues)
            hook.caFile = reader.string("ca_file", &issues)
            if hook.caFile != nil, !url.hasPrefix("https://") {
                issues.append(.init(key: "\(path).ca_file", message: "applies to https:// URLs only"))
            }
            if let interval = reader.number("min_interval_seconds", &issues) {
                if interval >= 0, interval <= 86_400 { hook.minIntervalSeconds = interval } else {
                    issues.append(.init(key: "\(path).min_interval_seconds", message: "must be seconds from 0 to 86400"))
                }
            }
            if issues.count == before { hooks.append(hook) }
        }
        return hooks
    }

    public func jsonText() -> String {
        var fields = ["\"url\": \(JSONText.string(url))"]
        if let template { fields.append("\"template\": \(JSONText.string(template))") }
        if minIntervalSeconds != 60 { fields.append("\"min_interval_seconds\": \(JSONText.number(minIntervalSeconds))") }
        if let caFile { fields.append("\"ca_file\": \(JSONText.string(caFile))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// `http://` or `https://`, a host, no whitespace: what a POST can be made to.
    static func isWebURL(_ url: String) -> Bool {
        let rest: Substring
        if url.hasPrefix("https://") { rest = url.dropFirst(8) } else if url.hasPrefix("http://") { rest = url.dropFirst(7) } else { return false }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return !host.isEmpty && !host.hasPrefix(":") && !url.contains { $0 == " " || $0 == "\t" || $0 == "\n" }
    }
}

/// Typed reads of one settings object, each wrong type an issue naming `path.key`.
struct FieldReader {
    let object: [String: JSONValue]
    let path: String
    let known: [String]

    func checkUnknown(_ issues: inout [ConfigError.Issue]) {
        for key in object.keys.sorted() where !known.contains(key) {
            issues.append(.init(key: "\(path).\(key)", message: "unknown key (known: \(known.joined(separator: ", ")))"))
        }
    }

    func string(_ key: String, _ issues: inout [ConfigError.Issue]) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?:
            guard s.count <= 4096, s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\n" }) else {
                issues.append(.init(key: "\(path).\(key)", message: "must be at most 4096 printable characters"))
                return nil
            }
            return s
        case let other?:
            issues.append(.init(key: "\(path).\(key)", message: "must be a string, not \(other.typeName)"))
            return nil
        }
    }

    func number(_ key: String, _ issues: inout [ConfigError.Issue]) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let v)? where v.isFinite: return v
        case let other?:
            issues.append(.init(key: "\(path).\(key)", message: "must be a number, not \(other.typeName)"))
            return nil
        }
    }

    func bool(_ key: String, _ issues: inout [ConfigError.Issue]) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?:
            issues.append(.init(key: "\(path).\(key)", message: "must be true or false, not \(other.typeName)"))
            return nil
        }
    }
}
