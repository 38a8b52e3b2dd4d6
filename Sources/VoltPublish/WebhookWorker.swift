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
    let client = WebhookClient()

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
        client.shutdown()
    }

    func deliver(_ row: Outbox.Row, _ outbox: Outbox) {
        // A row whose webhook was since removed from the settings is still delivered (it was
        // promised when raised), with the system's trust roots.
        let caFile = publisher.currentWebhooks().first { $0.url == row.target }?.caFile
        let result = client.post(url: row.target, body: row.body, caFile: caFile)
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
