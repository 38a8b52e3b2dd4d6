import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import VoltCore

/// POSTs webhook bodies over http:// or https:// through AsyncHTTPClient (swift-nio-ssl for
/// TLS: the system's trust roots, or a webhook's own `ca_file` for a receiver with a private
/// CA). Used from the webhook thread only, blocking on each answer: one alert at a time is all
/// a gateway sends, and the live path never waits for it.
final class WebhookClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One client per trust configuration (nil: the system's roots), made on first use and
    /// kept: a connection pool and TLS context per receiver, not per alert.
    private var clients: [String?: HTTPClient] = [:]

    func post(url: String, body: String, caFile: String?, timeoutSeconds: Int64 = 10) -> Result<Int, Failure> {
        let client: HTTPClient
        switch self.client(caFile: caFile) {
        case .success(let made): client = made
        case .failure(let failure): return .failure(failure)
        }
        do {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "User-Agent", value: "voltwatch/\(VoltwatchVersion.string)")
            let request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .string(body))
            let response = try client.execute(request: request, deadline: .now() + .seconds(timeoutSeconds)).wait()
            return .success(Int(response.status.code))
        } catch {
            return .failure(Failure(description: Self.explain(error)))
        }
    }

    /// Closes every connection; called when the webhook thread ends.
    func shutdown() {
        for client in clients.values { try? client.syncShutdown() }
        clients = [:]
    }

    private func client(caFile: String?) -> Result<HTTPClient, Failure> {
        if let made = clients[caFile] { return .success(made) }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                return .failure(Failure(description: "cannot read ca_file \(caFile): \(error)"))
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(10))
        // A webhook that redirects is followed (ntfy and Slack do not), at most 3 times.
        configuration.redirectConfiguration = .follow(max: 3, allowCycles: false)
        let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        clients[caFile] = made
        return .success(made)
    }

    /// What went wrong, in words a user can act on: a refused certificate says so.
    static func explain(_ error: any Error) -> String {
        if let tls = error as? NIOSSLError {
            return "TLS failed (\(tls)): check the receiver's certificate, or the webhook's ca_file"
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "cannot connect: timed out"
            case .deadlineExceeded, .readTimeout: return "no answer within the timeout"
            case .remoteConnectionClosed: return "the receiver closed the connection"
            default: return "\(client)"
            }
        }
        let text = "\(error)"
        if text.contains("handshakeFailed") || text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS failed (\(text)): check the receiver's certificate, or the webhook's ca_file"
        }
        return text
    }
}
