#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMosquitto
import Synchronization
import VoltCore

/// One connection attempt to the broker: a libmosquitto handle configured from
/// ``MQTTSettings`` (protocol, TLS, credentials, will), driven by ``loop(timeoutMs:)`` on the
/// publisher's own thread, so libmosquitto's callbacks run there too and nothing here needs a
/// lock. A new session is made for each (re)connection: nothing libmosquitto queued for a dead
/// connection is sent twice by it; the outbox resends what was not acknowledged.
final class MQTTSession {
    enum Failure: Error, CustomStringConvertible {
        case setup(String)
        case connect(String)
        var description: String {
            switch self {
            case .setup(let s), .connect(let s): s
            }
        }
    }

    private static let initialized: Bool = {
        mosquitto_lib_init()
        return true
    }()

    let handle: OpaquePointer
    let settings: MQTTSettings
    let protocolVersion: Int32
    /// CONNACK accepted.
    private(set) var connected = false
    /// Why the broker refused the connection (its CONNACK), once it did.
    private(set) var refusal: String?
    /// Message ids the broker acknowledged (QoS 1 PUBACK), taken by the publisher.
    var acknowledged: [Int32] = []
    /// Messages on the subscribed topics (topic, payload), taken by the publisher.
    var received: [(topic: String, payload: String)] = []
    /// Set by the connect callback, cleared by the publisher once it published what a new
    /// connection needs (status, discovery, states, outbox).
    var freshlyConnected = false

    /// `statusTopic`: where the will (`offline`, retained) goes; nil for none (`doctor`).
    init(settings: MQTTSettings, clientID: String, password: String?, statusTopic: String?) throws(Failure) {
        _ = Self.initialized
        self.settings = settings
        protocolVersion = settings.protocolVersion == "5" ? Int32(MQTT_PROTOCOL_V5) : Int32(MQTT_PROTOCOL_V311)
        guard let handle = mosquitto_new(clientID, settings.cleanSession, nil) else {
            throw .setup("cannot create an MQTT client (\(String(cString: strerror(errno))))")
        }
        self.handle = handle
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        _ = mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, protocolVersion)
        mosquitto_connect_callback_set(handle) { _, user, rc in
            guard let user else { return }
            let session = Unmanaged<MQTTSession>.fromOpaque(user).takeUnretainedValue()
            if rc == 0 {
                session.connected = true
                session.freshlyConnected = true
            } else {
                session.refusal = session.protocolVersion == Int32(MQTT_PROTOCOL_V5)
                    ? String(cString: mosquitto_reason_string(rc)) : String(cString: mosquitto_connack_string(rc))
            }
        }
        mosquitto_disconnect_callback_set(handle) { _, user, _ in
            guard let user else { return }
            Unmanaged<MQTTSession>.fromOpaque(user).takeUnretainedValue().connected = false
        }
        mosquitto_publish_callback_set(handle) { _, user, mid in
            guard let user else { return }
            Unmanaged<MQTTSession>.fromOpaque(user).takeUnretainedValue().acknowledged.append(mid)
        }
        mosquitto_message_callback_set(handle) { _, user, message in
            guard let user, let message else { return }
            let m = message.pointee
            let topic = String(cString: m.topic)
            let payload = m.payloadlen > 0 && m.payload != nil
                ? String(decoding: UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen)), as: UTF8.self) : ""
            Unmanaged<MQTTSession>.fromOpaque(user).takeUnretainedValue().received.append((topic, payload))
        }
        if let username = settings.username {
            let rc = mosquitto_username_pw_set(handle, username, password)
            if rc != 0 { throw .setup("username/password: \(Self.explain(rc))") }
        }
        if let statusTopic {
            let offline = Array("offline".utf8)
            let rc = offline.withUnsafeBytes { mosquitto_will_set(handle, statusTopic, Int32($0.count), $0.baseAddress, 1, true) }
            if rc != 0 { throw .setup("last will on \(statusTopic): \(Self.explain(rc))") }
        }
        if let endpoint = settings.endpoint, endpoint.tls {
            let capath = settings.caFile == nil ? "/etc/ssl/certs" : nil
            let rc = mosquitto_tls_set(handle, settings.caFile, capath, settings.certFile, settings.keyFile, nil)
            if rc != 0 {
                throw .setup("TLS (ca_file \(settings.caFile ?? "system"), cert_file \(settings.certFile ?? "none")): \(Self.explain(rc))")
            }
        }
    }

    deinit {
        mosquitto_destroy(handle)
    }

    /// Opens the TCP (and TLS) connection and sends CONNECT; the answer arrives through
    /// ``loop(timeoutMs:)``.
    func connect() throws(Failure) {
        guard let endpoint = settings.endpoint else { throw .connect("\(settings.url) is not an MQTT URL") }
        let rc = mosquitto_connect(handle, endpoint.host, Int32(endpoint.port), Int32(settings.keepalive))
        if rc != 0 { throw .connect("cannot connect to \(endpoint.host):\(endpoint.port): \(Self.explain(rc))") }
    }

    /// Reads and writes for at most `timeoutMs`; false when the connection is gone.
    func loop(timeoutMs: Int32) -> Bool {
        let rc = mosquitto_loop(handle, timeoutMs, 1)
        if rc != 0 { connected = false }
        return rc == 0
    }

    /// Output is waiting for the socket: the broker (or the network) is slower than we publish.
    var backlogged: Bool { mosquitto_want_write(handle) }

    /// Queues a message; its id, or nil when it could not be queued.
    @discardableResult
    func publish(_ topic: String, _ payload: String, qos: Int32, retain: Bool) -> Int32? {
        var mid: Int32 = 0
        let bytes = Array(payload.utf8)
        let rc = bytes.withUnsafeBytes { mosquitto_publish(handle, &mid, topic, Int32($0.count), $0.baseAddress, qos, retain) }
        return rc == 0 ? mid : nil
    }

    /// Subscribes (QoS 0); messages arrive in ``received`` through ``loop(timeoutMs:)``.
    func subscribe(_ pattern: String) {
        _ = mosquitto_subscribe(handle, nil, pattern, 0)
    }

    func disconnect() {
        _ = mosquitto_disconnect(handle)
        connected = false
    }

    static func explain(_ rc: Int32) -> String {
        if rc == Int32(MOSQ_ERR_ERRNO.rawValue) { return String(cString: strerror(errno)) }
        return String(cString: mosquitto_strerror(rc))
    }
}
