public import CoreMetrics
import NIOCore
import Synchronization
public import VoltCore

/// Fans every ``AgentEvent`` out to the connected clients and keeps the latest state the HTTP
/// API reports.
///
/// ``publish(_:)`` is called by the serial reader for every sample and must never wait: it
/// numbers the event under a short lock (with the state the API reports), encodes it once
/// (``Broadcast``), and hands it to each event loop that serves clients in one
/// `eventLoop.execute`. On its loop each client (a ``BroadcastReceiver``) writes it through NIO
/// at once while its socket takes data, and otherwise keeps it in its bounded outbox, which
/// drops the oldest message rather than grow. No task per client, no hop per client per message.
public final class Hub: AgentEventSink, Sendable {
    public struct Configuration: Sendable {
        /// Messages a client may have waiting before the oldest are dropped.
        public var queueCapacity = 256
        /// How long a client may keep dropping messages before it is disconnected, milliseconds.
        public var slowClientGraceMs: Int64 = 10_000
        /// Most clients at once.
        public var maxClients = 2_000
        /// Results `hello` replays to a new client.
        public var recentResults = 10
        /// Anomalies kept for `/api/anomalies`.
        public var anomalyHistory = 1_000
        /// A device silent for longer than this is stale in `/api/status`, milliseconds.
        public var staleAfterMs: Int64 = 2_000

        public init() {}
    }

    /// A registered client, as the hub sees it: enough for the counts `/api/status` reports.
    /// The connection itself is only touched on its event loop, through ``EventLoopClients``.
    final class Client: Sendable {
        let id: Int
        let kind: ClientKind
        let tally: ClientTally
        let loop: NIOLoopBound<EventLoopClients>

        init(id: Int, kind: ClientKind, tally: ClientTally, loop: NIOLoopBound<EventLoopClients>) {
            self.id = id
            self.kind = kind
            self.tally = tally
            self.loop = loop
        }
    }

    fileprivate struct State: Sendable {
        var clients: [Int: Client] = [:]
        /// The clients of each event loop that has served one; a broadcast copies this array.
        var loops: [NIOLoopBound<EventLoopClients>] = []
        var nextID = 1
        /// Broadcasts numbered so far (``Broadcast/sequence``).
        var published: UInt64 = 0
        var devices: [String: DeviceRecord] = [:]
        var recent: RecentRing<String>
        var episodes: EpisodeList
        var droppedTotal = 0
        var modelConfig: ModelConfig
        var modelConfigSource: String
    }

    public let configuration: Configuration
    /// The scoring configuration in effect, reported by `hello` and `/api/model`; replaced
    /// when the agent reloads it.
    public var modelConfig: ModelConfig { state.withLock { $0.modelConfig } }
    /// Where ``modelConfig`` came from (a path, or "built-in defaults").
    public var modelConfigSource: String { state.withLock { $0.modelConfigSource } }
    private let state: Mutex<State>
    let metrics: ServerMetrics
    /// When the hub was created (the agent's uptime), monotonic milliseconds.
    let startedMs = Now.monotonicMs

    public init(configuration: Configuration = .init(), modelConfig: ModelConfig, modelConfigSource: String,
                metricsFactory: any MetricsFactory) {
        self.configuration = configuration
        self.metrics = ServerMetrics(factory: metricsFactory)
        self.state = Mutex(State(
            recent: RecentRing(capacity: configuration.recentResults),
            episodes: EpisodeList(capacity: configuration.anomalyHistory),
            modelConfig: modelConfig, modelConfigSource: modelConfigSource))
    }

    // MARK: Publishing

    public func publish(_ event: AgentEvent) {
        switch event {
        case .result(let device, let result):
            let json = ResultEncoder.json(result, device: device)
            let (sequence, loops) = state.withLock { state in
                state.record(result, device: device, json: json)
                return state.nextBroadcast()
            }
            broadcast(Broadcast(event: "anomaly_result", dataJSON: json, sequence: sequence), to: loops)
            // After the clients: the counters can wait a few microseconds, the phones should not.
            metrics.recordResult(device: device, result)
        case .deviceStatus(let status):
            let json = status.json
            let (sequence, loops) = state.withLock { state in
                state.devices[status.device, default: DeviceRecord()].status = status
                return state.nextBroadcast()
            }
            broadcast(Broadcast(event: "device_status", dataJSON: json, sequence: sequence), to: loops)
        case .hello(let device, let hello):
            state.withLock { $0.devices[device, default: DeviceRecord()].hello = hello }
        case .counters(let device, let counters):
            state.withLock { $0.devices[device, default: DeviceRecord()].counters = counters }
            metrics.recordCounters(device: device, counters)
        case .episode(let device, let change):
            state.withLock { $0.episodes.apply(change, device: device) }
        case .configReloaded(let config, let source):
            state.withLock {
                $0.modelConfig = config
                $0.modelConfigSource = source
                $0.episodes.closeAll()
            }
        }
    }

    /// Hands `broadcast` to every event loop that serves clients; the first gets the buffers
    /// as they are, every other loop a copy of its own (``Broadcast/copy()``).
    private func broadcast(_ broadcast: Broadcast, to loops: [NIOLoopBound<EventLoopClients>]) {
        for (index, loop) in loops.enumerated() {
            let message = index == 0 ? broadcast : broadcast.copy()
            loop.eventLoop.execute { loop.value.deliver(message) }
        }
    }

    // MARK: Clients

    /// What a new client gets: its hub entry, the `hello` data, and the number of the last
    /// broadcast that `hello` already covers, all taken in one lock so nothing published in
    /// between is lost or sent twice.
    struct Registration: Sendable {
        let client: Client
        let helloJSON: String
        let coveredThrough: UInt64
    }

    /// Joins a client, on its event loop; nil when ``Configuration/maxClients`` are already
    /// connected. Broadcasts reach it from the next one on; the caller writes `hello` before
    /// returning to the loop, so it always comes first.
    func register(_ receiver: any BroadcastReceiver, kind: ClientKind, tally: ClientTally,
                  on eventLoop: any EventLoop) -> Registration? {
        let registration = state.withLock { state -> Registration? in
            guard state.clients.count < configuration.maxClients else { return nil }
            let loop: NIOLoopBound<EventLoopClients>
            if let existing = state.loops.first(where: { $0.eventLoop === eventLoop }) {
                loop = existing
            } else {
                loop = NIOLoopBound(EventLoopClients(sent: metrics.messagesSent), eventLoop: eventLoop)
                state.loops.append(loop)
            }
            let client = Client(id: state.nextID, kind: kind, tally: tally, loop: loop)
            state.nextID += 1
            state.clients[client.id] = client
            return Registration(client: client, helloJSON: helloJSON(state), coveredThrough: state.published)
        }
        guard let registration else { return nil }
        // On the loop, before any broadcast numbered after `coveredThrough` can run there.
        registration.client.loop.value.add(receiver)
        metrics.clients[kind]?.increment()
        return registration
    }

    /// Leaves, on the client's event loop.
    func unregister(_ client: Client, receiver: any BroadcastReceiver) {
        client.loop.value.remove(receiver)
        let removed = state.withLock { state -> Bool in
            guard state.clients.removeValue(forKey: client.id) != nil else { return false }
            state.droppedTotal += client.tally.dropped.load(ordering: .relaxed)
            return true
        }
        if removed { metrics.clients[client.kind]?.decrement() }
    }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    // MARK: Reports

    private func helloJSON(_ state: State) -> String {
        var out = "{\"version\":" + JSONText.string(VoltwatchVersion.string)
        out += ",\"config\":" + state.modelConfig.jsonText()
        out += ",\"config_source\":" + JSONText.string(state.modelConfigSource)
        let devices = state.devices.keys.sorted().compactMap { state.devices[$0]?.status?.json }
        out += ",\"devices\":[" + devices.joined(separator: ",") + "]"
        out += ",\"recent\":[" + state.recent.newestFirst(limit: state.recent.count).reversed().joined(separator: ",") + "]}"
        return out
    }

    /// `/api/anomalies`: up to `limit` alarm episodes, newest onset first.
    func anomalies(limit: Int) -> [EpisodeList.Entry] {
        state.withLock { $0.episodes.newestFirst(limit: limit) }
    }

    /// `/api/status`: devices and their stream health, clients, uptime.
    func statusReport() -> StatusReport {
        let nowMs = Now.epochMs
        let uptimeMs = Now.monotonicMs - startedMs
        return state.withLock { state in
            var ws = 0, sio = 0
            var dropped = state.droppedTotal
            for client in state.clients.values {
                if client.kind == .webSocket { ws += 1 } else { sio += 1 }
                dropped += client.tally.dropped.load(ordering: .relaxed)
            }
            let devices = state.devices.keys.sorted().map { id in
                let record = state.devices[id]!
                let board = record.label?.channel == nil ? nil : id.split(separator: "/").first.map(String.init)
                    .flatMap { board in state.devices[board].map { (board, $0) } }
                return record.report(device: id, board: board, nowMs: nowMs, staleAfterMs: configuration.staleAfterMs)
            }
            return StatusReport(
                uptimeSeconds: Double(secondsFromMilliseconds: uptimeMs), devices: devices,
                clients: .init(connected: ws + sio, ws: ws, socketio: sio, max: configuration.maxClients,
                               droppedMessages: dropped),
                anomaliesKept: state.episodes.count)
        }
    }

    /// How long the agent has run (`/api/health`).
    var uptimeMs: Int64 { Now.monotonicMs - startedMs }
}

extension Hub.State {
    /// Numbers a broadcast and names the loops it goes to.
    fileprivate mutating func nextBroadcast() -> (UInt64, [NIOLoopBound<EventLoopClients>]) {
        published += 1
        return (published, loops)
    }

    fileprivate mutating func record(_ result: ScoredResult, device: String, json: String) {
        var record = devices[device] ?? DeviceRecord()
        record.results += 1
        record.lastResultMs = result.timestampMs
        record.lastValue = result.voltage
        if let label = result.label {
            record.label = label
            // The board hears from its port whenever any of its channels does.
            if label.channel != nil, let slash = device.firstIndex(of: "/") {
                devices[String(device[..<slash])]?.lastResultMs = result.timestampMs
            }
        }
        if result.isAnomaly {
            record.anomalies += 1
            episodes.note(result, device: device)
        }
        devices[device] = record
        recent.append(json)
    }
}
