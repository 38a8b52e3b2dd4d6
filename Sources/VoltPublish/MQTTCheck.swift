#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import VoltCore

/// `voltwatch doctor`'s MQTT check: connects once with the settings' credentials and TLS files
/// (another client id and no will, so a running agent is not disturbed), and says whether the
/// broker was reached and accepted them.
public enum MQTTCheck {
    public struct Outcome: Sendable {
        public var ok: Bool
        public var message: String
        public var fix: String?
    }

    public static func run(_ settings: MQTTSettings, hostName: String = MQTTPublisher.hostName(), timeoutMs: Int64 = 5_000) -> Outcome {
        let gateway = settings.gatewayID ?? hostName
        let password: String?
        do {
            password = try MQTTWorker.password(settings)
        } catch {
            return Outcome(ok: false, message: "\(error)", fix: "make password_file readable by the service user, or run doctor as that user")
        }
        do {
            let session = try MQTTSession(settings: settings, clientID: "voltwatch-doctor-\(gateway)-\(getpid())", password: password,
                                          statusTopic: nil)
            try session.connect()
            let deadline = MQTTPublisher.nowMs() + timeoutMs
            while MQTTPublisher.nowMs() < deadline {
                let alive = session.loop(timeoutMs: 100)
                if session.connected {
                    session.disconnect()
                    _ = session.loop(timeoutMs: 10)
                    let auth = settings.username.map { " as \($0)" } ?? " (anonymous)"
                    return Outcome(ok: true, message: "\(settings.url) accepted the connection\(auth), MQTT \(settings.protocolVersion)")
                }
                if let refusal = session.refusal {
                    return Outcome(ok: false, message: "\(settings.url) refused the connection: \(refusal)",
                                   fix: "check mqtt.username and the password in mqtt.password_file against the broker's password file or ACL")
                }
                if !alive {
                    return Outcome(ok: false, message: "\(settings.url) closed the connection before answering (TLS failure, or a listener that wants TLS?)",
                                   fix: "check mqtt.ca_file (the CA that signed the broker's certificate) and the URL's scheme (mqtts:// for TLS)")
                }
            }
            return Outcome(ok: false, message: "\(settings.url) did not answer within \(timeoutMs / 1000) s",
                           fix: "check that the broker listens there and no firewall drops the packets")
        } catch {
            return Outcome(ok: false, message: error.description,
                           fix: "check that the broker runs and listens on that host and port (mosquitto_sub -h HOST -p PORT -t '#')")
        }
    }
}
