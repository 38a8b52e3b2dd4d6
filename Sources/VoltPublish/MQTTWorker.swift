#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization
import VoltCore

/// The MQTT thread: everything here runs on it alone (libmosquitto's callbacks included).
final class MQTTWorker: @unchecked Sendable {
    let publisher: MQTTPublisher
    var logger: Logger { publisher.log }

    var config: (mqtt: MQTTSettings?, webhooks: [WebhookSettings])
    var session: MQTTSession?
    var nextAttemptMs: Int64 = 0
    var backoffMs: Int64 = 500
    /// The last failure logged, so a broker away for an hour is one log line, not thousands.
    var lastFailure: String?
    var wasConnected = false
    /// Outbox rows handed to the current session, by message id; the cursor past them.
    var inflight: [Int32: Int64] = [:]
    var sentThrough: Int64 = 0
    /// Rows may be waiting past ``sentThrough``: the outbox is read only then, not on every turn.
    var outboxDirty = true
    /// Streams announced to Home Assistant, with their label.
    var streams: [String: StreamLabel?] = [:]
    var announced: Set<String> = []
    var lastStateMs: [String: Int64] = [:]
    /// When each known stream last sent a result (or, for one learnt from the broker's retained
    /// discovery, when this run started to wait for it): ``forgetGone(_:_:now:)`` removes
    /// streams silent for `forget_after_hours`.
    var lastSeenMs: [String: Int64] = [:]
    var nextForgetCheckMs: Int64 = 0
    /// Boards whose every stream was forgotten: their retained state was cleared and is not
    /// republished until one of their streams sends again.
    var forgottenBoards: Set<String> = []
    /// Webhook rate limit: per hook URL and device, when the last start was queued, and the
    /// episodes whose start was suppressed (their end is too).
    var lastHookStart: [String: Int64] = [:]
    var suppressed: Set<String> = []
    var suppressedCount: [String: Int] = [:]

    init(publisher: MQTTPublisher) {
        self.publisher = publisher
        config = publisher.currentConfig()
    }

    var prefix: String { config.mqtt?.topicPrefix(hostName: publisher.options.hostName) ?? "" }
    var gatewayID: String { config.mqtt?.gatewayID ?? publisher.options.hostName }

    func run() {
        announceConfig()
        while !publisher.isStopping {
            var batch = publisher.take()
            if batch.reload { reload() }
            queueEpisodes(batch.episodes)
            let now = MQTTPublisher.nowMs()
            for stream in batch.seen {
                if streams[stream] == nil { streams[stream] = .some(batch.last[stream]?.label) }
                lastSeenMs[stream] = now
                forgottenBoards.remove(DiscoveryConfig.board(of: stream))
            }
            if config.mqtt != nil {
                step(&batch)
            } else {
                usleep(50_000)
            }
        }
        shutdown()
    }

    func announceConfig() {
        if let mqtt = config.mqtt {
            logger.info("mqtt: publishing to \(mqtt.url) under \(prefix)/ (protocol \(mqtt.protocolVersion), discovery \(mqtt.discovery ? "on" : "off"))")
        }
        for hook in config.webhooks { logger.info("webhook: alerts to \(hook.url)") }
    }

    // MARK: Episodes into the outbox

    func queueEpisodes(_ episodes: [EpisodeMessage]) {
        guard !episodes.isEmpty else { return }
        var rows: [(target: String, device: String, topic: String, body: String)] = []
        let now = MQTTPublisher.nowMs()
        for message in episodes {
            let json = message.json
            if config.mqtt != nil { rows.append(("mqtt", message.device, "\(prefix)/\(message.device)/anomaly", json)) }
            for hook in config.webhooks {
                let key = "\(hook.url)#\(message.device)"
                let episodeKey = "\(key)#\(message.episode.id)"
                switch message.event {
                case .start:
                    if let last = lastHookStart[key], now - last < Int64(hook.minIntervalSeconds * 1000) {
                        suppressed.insert(episodeKey)
                        suppressedCount[key, default: 0] += 1
                        continue
                    }
                    lastHookStart[key] = now
                    if let count = suppressedCount.removeValue(forKey: key) {
                        logger.notice("webhook: \(count) alert(s) of \(message.device) to \(hook.url) were held back by min_interval_seconds \(JSONText.number(hook.minIntervalSeconds))")
                    }
                case .end:
                    if suppressed.remove(episodeKey) != nil { continue }
                }
                rows.append((hook.url, message.device, hook.template ?? "", hook.template.map { message.render($0) } ?? json))
            }
        }
        outboxDirty = true
        publisher.webhooksPending.store(true, ordering: .releasing)
        guard let outbox = publisher.outbox() else {
            // No disk: send the MQTT ones now if we can, webhooks are lost.
            if let session, session.connected {
                for row in rows where row.target == "mqtt" { session.publish(row.topic, row.body, qos: 1, retain: false) }
            }
            return
        }
        do {
            try outbox.add(rows, nowMs: now)
            if try outbox.count() > publisher.options.outboxCapacity {
                let dropped = try outbox.trim(keeping: publisher.options.outboxCapacity)
                logger.warning("mqtt: the outbox is full; dropped the \(dropped) oldest undelivered episode message(s)")
            }
        } catch {
            logger.error("mqtt: cannot write the outbox \(publisher.options.outboxPath): \(error)")
            publisher.outboxFailed()
        }
    }

    // MARK: The connection

    func step(_ batch: inout MQTTPublisher.Inbox) {
        if session == nil, MQTTPublisher.nowMs() >= nextAttemptMs { attemptConnect() }
        guard let session else {
            publisher.stats.dropped.add(batch.results.count, ordering: .relaxed)
            usleep(50_000)
            return
        }
        if session.freshlyConnected { onConnected(session) }
        if session.connected {
            publishLive(session, &batch)
            deliverOutbox(session)
        } else {
            publisher.stats.dropped.add(batch.results.count, ordering: .relaxed)
        }
        let alive = session.loop(timeoutMs: 50)
        ackDelivered(session)
        learnAnnounced(session)
        if let refusal = session.refusal {
            fail("the broker \(config.mqtt!.url) refused the connection: \(refusal) (check username and password_file)", refused: true)
            session.disconnect()
            self.session = nil
        } else if !alive {
            fail(wasConnected ? "lost the connection to \(config.mqtt!.url); reconnecting" : "cannot reach \(config.mqtt!.url)", refused: false)
            self.session = nil
        }
        if self.session == nil { publisher.stats.connected.store(false, ordering: .relaxed) }
    }

    func attemptConnect() {
        guard let mqtt = config.mqtt else { return }
        do {
            let password = try readPassword(mqtt)
            let client = try MQTTSession(settings: mqtt, clientID: "voltwatch-\(gatewayID)", password: password,
                                         statusTopic: "\(prefix)/status")
            try client.connect()
            session = client
            inflight = [:]
            sentThrough = 0
            outboxDirty = true
        } catch let failure as MQTTSession.Failure {
            fail("\(failure.description)", refused: false)
        } catch {
            fail("\(error)", refused: false)
        }
    }

    func readPassword(_ mqtt: MQTTSettings) throws -> String? { try Self.password(mqtt) }

    /// The first line of `password_file`; a relative path is looked up in systemd's
    /// `$CREDENTIALS_DIRECTORY` first (`LoadCredential=`).
    static func password(_ mqtt: MQTTSettings) throws -> String? {
        guard let file = mqtt.passwordFile else { return nil }
        var path = file
        if !file.hasPrefix("/"), let credentials = getenv("CREDENTIALS_DIRECTORY") {
            let candidate = String(cString: credentials) + "/" + file
            if access(candidate, R_OK) == 0 { path = candidate }
        }
        guard let handle = fopen(path, "r") else {
            throw MQTTSession.Failure.setup("cannot read password_file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        while bytes.count < 4096 {
            let c = fgetc(handle)
            if c == EOF || c == 10 || c == 13 { break }
            bytes.append(UInt8(c))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func fail(_ message: String, refused: Bool) {
        let now = MQTTPublisher.nowMs()
        if message != lastFailure {
            logger.error("mqtt: \(message); results go on to local clients, episodes wait in the outbox")
            lastFailure = message
        }
        wasConnected = false
        nextAttemptMs = now + backoffMs
        backoffMs = min(backoffMs * 2, refused ? 30_000 : publisher.options.maxBackoffMs)
    }

    func onConnected(_ session: MQTTSession) {
        session.freshlyConnected = false
        logger.notice("mqtt: connected to \(config.mqtt!.url) as voltwatch-\(gatewayID)")
        lastFailure = nil
        wasConnected = true
        backoffMs = 500
        publisher.stats.connected.store(true, ordering: .relaxed)
        session.publish("\(prefix)/status", "online", qos: 1, retain: true)
        announced = []
        lastStateMs = [:]
        if let mqtt = config.mqtt, mqtt.discovery, mqtt.forgetAfterHours > 0 {
            // What this gateway announced before (retained at the broker), so a board that
            // never comes back after a restart is forgotten too.
            session.subscribe("\(mqtt.discoveryPrefix)/sensor/\(DiscoveryConfig.slug("voltwatch_\(gatewayID)"))/+/config")
        }
    }

    /// Streams of this gateway that Home Assistant knows from an earlier run: their voltage
    /// sensor's retained config names the stream in its state topic. Not seen in this run yet,
    /// they wait `forget_after_hours` from now.
    func learnAnnounced(_ session: MQTTSession) {
        guard !session.received.isEmpty else { return }
        let messages = session.received
        session.received = []
        let now = MQTTPublisher.nowMs()
        for (topic, payload) in messages where topic.hasSuffix("_voltage/config") && !payload.isEmpty {
            guard case .object(let config)? = try? JSONValue.parse(Array(payload.utf8)),
                  case .string(let stateTopic)? = config["state_topic"],
                  stateTopic.hasPrefix(prefix + "/"), stateTopic.hasSuffix("/result") else { continue }
            let stream = String(stateTopic.dropFirst(prefix.count + 1).dropLast("/result".count))
            guard !stream.isEmpty, streams[stream] == nil else { continue }
            streams[stream] = .some(nil)
            announced.insert(stream)
            lastSeenMs[stream] = now
        }
    }

    /// Removes what Home Assistant shows for streams silent for `forget_after_hours` (a board
    /// unplugged for good, a channel taken out of its set): empty retained discovery configs,
    /// and the board's retained state once none of its streams is left. A stream that sends
    /// again is announced again.
    func forgetGone(_ session: MQTTSession, _ mqtt: MQTTSettings, now: Int64) {
        guard mqtt.forgetAfterHours > 0, now >= nextForgetCheckMs else { return }
        let limitMs = Int64(mqtt.forgetAfterHours * 3_600_000)
        nextForgetCheckMs = now + max(1_000, min(60_000, limitMs / 8))
        for stream in streams.keys.sorted() where now - (lastSeenMs[stream] ?? now) > limitMs {
            if mqtt.discovery { removeEntities(of: stream, session, mqtt) }
            streams[stream] = nil
            announced.remove(stream)
            lastSeenMs[stream] = nil
            let board = DiscoveryConfig.board(of: stream)
            if !streams.keys.contains(where: { DiscoveryConfig.board(of: $0) == board }) {
                session.publish("\(prefix)/\(board)/state", "", qos: 1, retain: true)
                forgottenBoards.insert(board)
                lastStateMs[board] = nil
            }
            logger.notice("mqtt: \(stream) sent nothing for \(JSONText.number(mqtt.forgetAfterHours)) h (forget_after_hours): removed from Home Assistant; it returns with its next result")
        }
    }

    // MARK: Publishing

    func publishLive(_ session: MQTTSession, _ batch: inout MQTTPublisher.Inbox) {
        let mqtt = config.mqtt!
        let now = MQTTPublisher.nowMs()
        if mqtt.discovery {
            for (stream, label) in streams.sorted(by: { $0.key < $1.key }) where !announced.contains(stream) {
                announced.insert(stream)
                let board = DiscoveryConfig.board(of: stream)
                for entity in DiscoveryConfig.entities(stream: stream, name: label?.name, unit: label?.unit ?? "V", prefix: prefix,
                                                       gatewayID: gatewayID, discoveryPrefix: mqtt.discoveryPrefix,
                                                       firmware: batch.states[board]?.firmware) {
                    session.publish(entity.topic, entity.payload, qos: 1, retain: true)
                }
            }
        }
        forgetGone(session, mqtt, now: now)
        for (device, status) in batch.states where !forgottenBoards.contains(device) {
            let due = batch.dirtyStates.contains(device) || now - (lastStateMs[device] ?? 0) >= publisher.options.stateIntervalMs
            guard due else { continue }
            lastStateMs[device] = now
            session.publish("\(prefix)/\(device)/state", StatePayload.json(status, counters: batch.counters[device]), qos: 1, retain: true)
        }
        publisher.stats.dropped.add(batch.droppedResults, ordering: .relaxed)
        guard !batch.results.isEmpty else { return }
        if session.backlogged && batch.results.count > 64 {
            // The broker is slower than the results: keep the newest, drop the rest.
            let excess = batch.results.count - 64
            batch.results.removeFirst(excess)
            publisher.stats.dropped.add(excess, ordering: .relaxed)
        }
        for (device, result) in batch.results {
            session.publish("\(prefix)/\(device)/result", ResultEncoder.json(result, device: device), qos: 0, retain: false)
        }
        publisher.stats.published.add(batch.results.count, ordering: .relaxed)
    }

    func deliverOutbox(_ session: MQTTSession) {
        guard outboxDirty, inflight.count < 50, let outbox = publisher.outbox() else { return }
        do {
            let rows = try outbox.pending(target: "mqtt", afterSeq: sentThrough, limit: 50 - inflight.count)
            // Read again only when something new was written or this batch filled the window.
            outboxDirty = rows.count == 50 - inflight.count
            for row in rows {
                guard let mid = session.publish(row.topic, row.body, qos: 1, retain: false) else { break }
                inflight[mid] = row.seq
                sentThrough = row.seq
            }
        } catch {
            logger.error("mqtt: cannot read the outbox: \(error)")
            publisher.outboxFailed()
        }
    }

    func ackDelivered(_ session: MQTTSession) {
        guard !session.acknowledged.isEmpty else { return }
        let mids = session.acknowledged
        session.acknowledged = []
        guard let outbox = publisher.outbox() else { return }
        for mid in mids {
            guard let seq = inflight.removeValue(forKey: mid) else { continue }
            outboxDirty = true
            do { try outbox.delete(seq: seq) } catch { logger.error("mqtt: cannot update the outbox: \(error)") }
        }
    }

    // MARK: Reload and shutdown

    func reload() {
        let next = publisher.currentConfig()
        guard next.mqtt != config.mqtt || next.webhooks != config.webhooks else { return }
        if next.mqtt != config.mqtt {
            if let session, session.connected, let old = config.mqtt, old.discovery,
               next.mqtt?.discovery != true || next.mqtt?.topicPrefix(hostName: publisher.options.hostName) != prefix
                || next.mqtt?.discoveryPrefix != old.discoveryPrefix {
                removeDiscovery(session, old)
            }
            closeSession()
            logger.notice("mqtt: settings changed; reconnecting with the new ones")
            nextAttemptMs = 0
            backoffMs = 500
            lastFailure = nil
        }
        config = next
        announceConfig()
    }

    func removeDiscovery(_ session: MQTTSession, _ mqtt: MQTTSettings) {
        for stream in streams.keys { removeEntities(of: stream, session, mqtt) }
        announced = []
    }

    /// Empty retained payloads on the config topics of `stream`'s entities: Home Assistant
    /// removes them. (The topics depend on the stream only, not on its name or unit.)
    func removeEntities(of stream: String, _ session: MQTTSession, _ mqtt: MQTTSettings) {
        for entity in DiscoveryConfig.removals(of: DiscoveryConfig.entities(
            stream: stream, name: nil, unit: "V", prefix: prefix, gatewayID: gatewayID,
            discoveryPrefix: mqtt.discoveryPrefix, firmware: nil)) {
            session.publish(entity.topic, "", qos: 1, retain: true)
        }
    }

    /// Says `offline` (retained: a clean disconnect sends no will), and lets it go out.
    func closeSession() {
        guard let session else { return }
        if session.connected {
            let mid = session.publish("\(prefix)/status", "offline", qos: 1, retain: true)
            let deadline = MQTTPublisher.nowMs() + 1_000
            while let mid, !session.acknowledged.contains(mid), session.connected, MQTTPublisher.nowMs() < deadline {
                _ = session.loop(timeoutMs: 50)
            }
            ackDelivered(session)
            session.disconnect()
            _ = session.loop(timeoutMs: 10)
        }
        self.session = nil
        publisher.stats.connected.store(false, ordering: .relaxed)
    }

    func shutdown() {
        // Last episodes first, then offline.
        let batch = publisher.take()
        queueEpisodes(batch.episodes)
        if let session, session.connected {
            deliverOutbox(session)
            let deadline = MQTTPublisher.nowMs() + 1_000
            while !inflight.isEmpty, session.connected, MQTTPublisher.nowMs() < deadline {
                _ = session.loop(timeoutMs: 50)
                ackDelivered(session)
            }
        }
        closeSession()
    }
}
