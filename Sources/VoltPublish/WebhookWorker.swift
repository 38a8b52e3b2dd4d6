#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization
import VoltCore

/// The webhook thread: POSTs each outbox row whose target is a URL, oldest first per URL and
/// device; a failure (no answer, or a status outside 2xx) is retried with exponential backoff
/// (1 s, 2 s, 4 s, ... up to 5 min), and later rows of the same device wait behind it.
final class WebhookWorker: @unchecked Sendable {
    let publisher: MQTTPublisher
    var loggedFailures: Set<String> = []
    /// When the earliest row waiting for a retry comes due.
    var nextRetryMs: Int64?

    init(publisher: MQTTPublisher) { self.publisher = publisher }

    func run() {
        while !publisher.isStopping {
            let now = MQTTPublisher.nowMs()
            var rows: [Outbox.Row] = []
            // The outbox is read only while webhooks are configured and rows may be waiting:
            // new ones were written, or a retry comes due.
            if publisher.webhooksOn.load(ordering: .acquiring), publisher.webhooksPending.load(ordering: .acquiring)
                || (nextRetryMs.map { now >= $0 } ?? false), let outbox = publisher.outbox() {
                publisher.webhooksPending.store(false, ordering: .releasing)
                do { rows = try outbox.dueWebhooks(nowMs: now) } catch { publisher.outboxFailed() }
                for row in rows where !publisher.isStopping { deliver(row, outbox) }
                if !rows.isEmpty { publisher.webhooksPending.store(true, ordering: .releasing) }
                if rows.isEmpty { nextRetryMs = (try? outbox.nextWebhookAttemptMs()) ?? nil }
            }
            if rows.isEmpty { usleep(100_000) }
        }
    }

    func deliver(_ row: Outbox.Row, _ outbox: Outbox) {
        let result = HTTPPost.post(url: row.target, body: row.body, timeoutSeconds: 10)
        do {
            switch result {
            case .success(let status) where (200..<300).contains(status):
                try outbox.delete(seq: row.seq)
                if loggedFailures.remove(row.target) != nil {
                    publisher.log.notice("webhook: \(row.target) answers again (\(status))")
                }
            case .success(let status):
                try retry(row, outbox, why: "answered HTTP \(status)")
            case .failure(let error):
                try retry(row, outbox, why: error.description)
            }
        } catch {
            publisher.log.error("webhook: cannot update the outbox: \(error)")
            publisher.outboxFailed()
        }
    }

    func retry(_ row: Outbox.Row, _ outbox: Outbox, why: String) throws {
        let attempts = row.attempts + 1
        let delay = min(Int64(1_000) << min(attempts - 1, 20), 300_000)
        try outbox.retryLater(seq: row.seq, attempts: attempts, atMs: MQTTPublisher.nowMs() + delay)
        if loggedFailures.insert(row.target).inserted || attempts % 10 == 0 {
            publisher.log.warning("webhook: \(row.target) \(why) (attempt \(attempts)); retrying in \(delay / 1000) s")
        }
    }
}

/// A minimal HTTP/1.1 POST over a plain socket (`http://` URLs), blocking, with timeouts: what a
/// webhook needs and no more.
enum HTTPPost {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ url: String) -> (host: String, port: Int, path: String)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = String(hostPort)
        var port = 80
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else { return nil }
            host = String(hostPort[..<colon])
            port = p
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port, path)
    }

    static func post(url: String, body: String, timeoutSeconds: Int) -> Result<Int, Failure> {
        if url.hasPrefix("https://") {
            return .failure(Failure(description: "https webhooks are not supported yet (use an http:// URL or a local relay)"))
        }
        guard let target = parse(url) else { return .failure(Failure(description: "not an http:// URL")) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(Failure(description: "cannot resolve \(target.host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd >= 0 {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { break }
                lastError = errno
                close(fd)
                fd = -1
            }
            entry = info.pointee.ai_next
        }
        guard fd >= 0 else { return .failure(Failure(description: "cannot connect: \(String(cString: strerror(lastError)))")) }
        defer { close(fd) }
        let payload = Array(body.utf8)
        let hostHeader = target.port == 80 ? target.host : "\(target.host):\(target.port)"
        let head = "POST \(target.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: voltwatch/\(VoltwatchVersion.string)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + payload
        var written = 0
        while written < request.count {
            let n = request[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(description: "cannot send: \(String(cString: strerror(errno)))"))
            }
            written += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while response.count < 16_384, !response.contains(10) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            response += buffer[..<n]
        }
        // "HTTP/1.1 204 No Content"
        let line = String(decoding: response.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failure(Failure(description: response.isEmpty ? "no answer" : "not an HTTP answer"))
        }
        return .success(status)
    }
}
