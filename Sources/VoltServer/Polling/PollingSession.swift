import CoreMetrics
import Logging
import NIOCore
import Synchronization
import VoltCore

/// One Engine.IO v4 long-polling client (`/socket.io/?EIO=4&transport=polling`): the same
/// ``SocketIOSession`` as the websocket transport, driven by HTTP requests instead of frames.
///
/// Everything here runs on one event loop (``loop``): the HTTP handlers hop to it, the hub
/// offers broadcasts on it (this is a ``BroadcastReceiver``), the heartbeat is scheduled on
/// it. What the client is to be sent waits in two bounded queues until its next `GET`:
/// broadcasts in a ``ClientOutbox`` with the websocket clients' rules (oldest dropped, `missed`
/// told, a client that keeps dropping for `--slow-client-grace` is dropped), and replies,
/// pings and acks in a short queue of their own. A `GET` with nothing to send waits until
/// something comes; the heartbeat's ping every `pingInterval` bounds that wait. A client that
/// stops polling never sees the ping, never answers it, and is closed after `pingTimeout`:
/// its queues, scorers and hub entry go with it.
final class PollingSession: BroadcastReceiver {
    let loop: any EventLoop
    let server: VoltServer
    let logger: Logger
    private(set) var io: SocketIOSession
    private var outbox: ClientOutbox<Broadcast>
    private var control: [String] = []
    private var waiting: EventLoopPromise<String>?
    private var registration: Hub.Client?
    private var coveredThrough: UInt64 = 0
    /// The newest broadcast this session has taken (sent or queued), for the hand-over.
    private var lastSequence: UInt64 = 0
    private let tally = ClientTally()
    private var heartbeat: Scheduled<Void>?
    private var appStreams: AppStreams?
    private var simulationsInFlight = 0
    private(set) var isClosed = false
    /// What a session that closed with packets still waiting (a `44` refusal, say) gives its
    /// last poll; kept for at most `pingTimeout`.
    private var lastWords: String?
    /// Called once when the session closes (the registry forgets it).
    var onClose: (() -> Void)?

    /// Replies, pings and acks that may wait for a poll; a client that sends more requests
    /// than this without polling for the answers is closed.
    static let maxControlPackets = 64
    /// The packet separator of the polling transport (Engine.IO v4).
    static let separator: Character = "\u{1e}"

    init(loop: any EventLoop, server: VoltServer, engineSID: String, logger: Logger) {
        self.loop = loop
        self.server = server
        self.logger = logger
        let configuration = SocketIOSession.Configuration(
            pingIntervalMs: server.configuration.pingIntervalMs,
            pingTimeoutMs: server.configuration.pingTimeoutMs,
            maxPayload: server.configuration.maxClientMessageBytes)
        io = SocketIOSession(engineSID: engineSID, socketSID: ClientConnection.randomID(),
                             configuration: configuration, nowMs: Now.monotonicMs)
        outbox = ClientOutbox(capacity: server.hub.configuration.queueCapacity,
                              overBudgetGraceMs: server.hub.configuration.slowClientGraceMs)
    }

    var hub: Hub { server.hub }

    /// The open packet, the answer to the handshake `GET`; starts the heartbeat.
    func open() -> String {
        loop.preconditionInEventLoop()
        scheduleHeartbeat()
        return io.openPacket(upgrades: ["websocket"])
    }

    // MARK: Polls

    /// A `GET`: everything waiting, at once, or a future that completes when something comes.
    func poll() -> EventLoopFuture<String> {
        loop.preconditionInEventLoop()
        guard !isClosed else {
            guard let words = lastWords else { return loop.makeFailedFuture(PollingError.sessionClosed) }
            lastWords = nil
            onClose?()
            onClose = nil
            return loop.makeSucceededFuture(words)
        }
        guard waiting == nil else {
            // Engine.IO allows one poll at a time; a second means a confused client.
            close(reason: "overlapping polls")
            return loop.makeFailedFuture(PollingError.overlappingPoll)
        }
        if let text = takePending() { return loop.makeSucceededFuture(text) }
        let promise = loop.makePromise(of: String.self)
        waiting = promise
        return promise.futureResult
    }

    /// A `POST`: the client's packets, separated by `\x1e`.
    func receive(payload: String, credentials: ClientCredentials) {
        loop.preconditionInEventLoop()
        for packet in payload.split(separator: Self.separator, omittingEmptySubsequences: true) {
            guard !isClosed else { return }
            if packet.first == "b" {
                enqueue(WireText.socketIO(event: "error", dataJSON: WireText.errorData(
                    "binary attachments are not supported: send JSON text")))
                continue
            }
            perform(io.receive(packet), credentials: credentials)
        }
    }

    private func perform(_ actions: [SocketIOSession.Action], credentials: ClientCredentials) {
        var pending = actions[...]
        while let action = pending.popFirst(), !isClosed {
            switch action {
            case .send(let text):
                enqueue(text)
            case .close(let reason):
                close(reason: reason)
            case .authorize(let authToken):
                pending = authorize(authToken: authToken, credentials: credentials) + pending
            case .request(let request, let ackID):
                answer(request, ackID: ackID)
            }
        }
    }

    private func authorize(authToken: String?, credentials: ClientCredentials) -> ArraySlice<SocketIOSession.Action> {
        if let denial = server.policy.authorize(
            authorization: credentials.authorization, queryToken: credentials.queryToken, authToken: authToken)
        {
            logger.info("refused socket.io polling client", metadata: ["reason": "\(denial)"])
            return io.refuse(denial.description)[...]
        }
        guard let joined = hub.register(self, kind: .socketIO, tally: tally, on: loop) else {
            return io.refuse(VoltServer.tooManyClients)[...]
        }
        registration = joined.client
        coveredThrough = joined.coveredThrough
        lastSequence = joined.coveredThrough
        for case .send(let text) in io.accept() { enqueue(text) }
        enqueue(WireText.socketIO(event: "hello", dataJSON: joined.helloJSON))
        _ = outbox.open()
        return []
    }

    private func answer(_ request: ClientRequest, ackID: Int?) {
        if case .voltageData(let volts, let timestampMs, let device) = request {
            let streams = appStreams ?? AppStreams(shared: server.appScorers)
            appStreams = streams
            let answer = server.answerVoltageData(volts: volts, timestampMs: timestampMs, device: device, streams: streams)
            reply(answer.event, answer.dataJSON, ackID)
            return
        }
        guard simulationsInFlight < ClientConnection.maxWaitingRequests else {
            reply("error", WireText.errorData("too many requests waiting: wait for the answers before sending more"), ackID)
            return
        }
        simulationsInFlight += 1
        let session = NIOLoopBound(self, eventLoop: loop)
        let (server, logger) = (self.server, self.logger)
        Task {
            let answer = await server.perform(request, logger: logger)
            session.eventLoop.execute {
                session.value.simulationsInFlight -= 1
                session.value.reply(answer.event, answer.dataJSON, ackID)
            }
        }
    }

    private func reply(_ event: String, _ dataJSON: String, _ ackID: Int?) {
        guard !isClosed else { return }
        enqueue(WireText.socketIO(event: event, dataJSON: dataJSON))
        if let ackID { enqueue(io.ack(ackID, dataJSON: dataJSON)) }
    }

    // MARK: Broadcasts

    func receive(_ broadcast: Broadcast, nowMs: Int64) -> Bool {
        guard broadcast.sequence > coveredThrough, !isClosed else { return false }
        lastSequence = max(lastSequence, broadcast.sequence)
        // "Writable" is a poll waiting with nothing queued: then the broadcast goes out now.
        let delivery = outbox.offer(broadcast, writable: waiting != nil && control.isEmpty, nowMs: nowMs)
        return delivery.settle(tally: tally, metrics: hub.metrics) {
            complete(String(buffer: broadcast.socketIOText))
        } cutOff: {
            close(reason: "fell behind for too long")
        }
    }

    // MARK: Queues

    private func enqueue(_ text: String) {
        guard !isClosed else { return }
        guard control.count < Self.maxControlPackets else {
            close(reason: "too many packets waiting for a poll")
            return
        }
        control.append(text)
        if waiting != nil, let pending = takePending() { complete(pending) }
    }

    /// Everything waiting, oldest first, joined for one poll answer; nil when nothing waits.
    private func takePending() -> String? {
        let packets = takePendingPackets()
        return packets.isEmpty ? nil : packets.joined(separator: String(Self.separator))
    }

    private func takePendingPackets() -> [String] {
        var packets = control
        control.removeAll(keepingCapacity: true)
        var batch: [Broadcast] = []
        if let missed = outbox.drain(into: &batch) {
            if missed > 0 {
                hub.metrics.messagesDropped.increment(by: missed)
                packets.append(WireText.socketIO(event: "missed",
                    dataJSON: "{\"count\":\(missed),\"message\":\"you fell behind: \(missed) messages were dropped\"}"))
            }
            for broadcast in batch { packets.append(String(buffer: broadcast.socketIOText)) }
            hub.metrics.messagesSent.increment(by: batch.count)
        }
        return packets
    }

    // MARK: Upgrade

    /// Whether the client has joined the namespace (and so the hub).
    var isJoined: Bool { registration != nil }

    /// What a websocket takes over when the client upgrades (`5`).
    struct HandOver: @unchecked Sendable {
        // @unchecked: `appStreams` moves from this session to the connection, which alone
        // touches it from then on.
        let io: SocketIOSession
        let pending: [String]
        let lastSequence: UInt64
        let appStreams: AppStreams?
    }

    /// The client moved to a websocket: a waiting poll is answered with a no-op (`6`), so the
    /// client's polling ends; what waited, the protocol state and the scorers go to the
    /// websocket; this session closes. Nil when it closed already.
    func handOver() -> HandOver? {
        loop.preconditionInEventLoop()
        guard !isClosed else { return nil }
        let handed = HandOver(io: io, pending: takePendingPackets(), lastSequence: lastSequence, appStreams: appStreams)
        appStreams = nil
        complete(EngineIOPacket.noop.text)
        close(reason: "upgraded to websocket")
        return handed
    }

    private func complete(_ text: String) {
        guard let promise = waiting else { return }
        waiting = nil
        promise.succeed(text)
    }

    // MARK: Heartbeat and closing

    private func scheduleHeartbeat() {
        guard !isClosed else { return }
        let wait = max(io.nextDeadlineMs - Now.monotonicMs, 1)
        let session = NIOLoopBound(self, eventLoop: loop)
        heartbeat = loop.scheduleTask(in: .milliseconds(wait)) {
            let s = session.value
            s.perform(s.io.tick(nowMs: Now.monotonicMs), credentials: ClientCredentials())
            s.scheduleHeartbeat()
        }
    }

    /// Ends the session: a waiting poll gets the close packet, the hub and the registry forget it.
    func close(reason: String) {
        guard !isClosed else { return }
        logger.debug("socket.io polling session closed", metadata: ["reason": "\(reason)"])
        isClosed = true
        heartbeat?.cancel()
        heartbeat = nil
        outbox.close()
        let unannounced = outbox.takeUnannouncedDrops()
        if unannounced > 0 { hub.metrics.messagesDropped.increment(by: unannounced) }
        // Pings left unpolled say nothing: a client that stopped polling gets no last words.
        let unsent = control.filter { $0 != EngineIOPacket.ping(payload: "").text }
        control.removeAll()
        appStreams = nil
        if let promise = waiting {
            waiting = nil
            promise.succeed(EngineIOPacket.close.text)
        }
        if let client = registration {
            registration = nil
            hub.unregister(client, receiver: self)
        }
        if !unsent.isEmpty {
            // Nobody polls right now: the next poll still hears why the session ended.
            // No close packet after them: python-engineio then waits out its write loop's
            // timeout (30 s) before giving up; the next request's 400 ends it at once.
            lastWords = unsent.joined(separator: String(Self.separator))
            let session = NIOLoopBound(self, eventLoop: loop)
            loop.scheduleTask(in: .milliseconds(io.configuration.pingTimeoutMs)) {
                session.value.lastWords = nil
                session.value.onClose?()
                session.value.onClose = nil
            }
            return
        }
        onClose?()
        onClose = nil
    }
}

/// Why a polling request was refused.
enum PollingError: Error, CustomStringConvertible {
    case sessionClosed
    case overlappingPoll

    var description: String {
        switch self {
        case .sessionClosed: "the session is closed: connect again"
        case .overlappingPoll: "a poll was already waiting for this session: poll one at a time"
        }
    }
}
