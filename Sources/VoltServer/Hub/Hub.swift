public import CoreMetrics
import NIOCore
import Synchronization
public import VoltCore

/// Fans every ``AgentEvent`` out to the connected clients and keeps the latest state the HTTP
/// API reports.
///
/// ``publish(_:)`` is called by the serial reader for every sample and must never wait: it
/// encodes the event once (``SharedMessage``), updates the state under a short lock, and hands
/// the message to each event loop that serves clients in one `eventLoop.execute`, which offers
/// it to every ``ClientOutlet`` of that loop: written to the socket at once while the socket
/// takes data, else kept in the client's bounded outbox, which drops the oldest message rather
/// than grow. No task per client, no hop per client per message.
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

    /// A registered client, as the hub sees it.
    final class Client: Sendable {
        let id: Int
        let kind: ClientKind
        /// The event loop of the client's channel: its outlet is only touched there.
        let eventLoop: any EventLoop
        let outlet: NIOLoopBound<ClientOutlet>
        let tally: ClientTally

        init(id: Int, kind: ClientKind, outlet: NIOLoopBound<ClientOutlet>, tally: ClientTally) {
            self.id = id
            self.kind = kind
            self.eventLoop = outlet.eventLoop
            self.outlet = outlet
            self.tally = tally
        }

        /// Writes `hello` (and anything broadcast since registering), then lets broadcasts flow.
        func open(helloText: String) {
            let outlet = self.outlet
            eventLoop.execute { outlet.value.open(hello: helloText) }
        }
    }

    /// The clients served by one event loop: a broadcast reaches them in one `execute`.
    fileprivate struct LoopFanout: Sendable {
        let eventLoop: any EventLoop
        var clients: [Client]
    }

    fileprivate struct State: Sendable {
        var clients: [Int: Client] = [:]
        /// The same clients grouped by event loop, changed on (rare) joins and leaves so a
        /// broadcast copies one array instead of walking a dictionary.
        var loops: [LoopFanout] = []
        var nextID = 1
        var devices: [String: DeviceRecord] = [:]
        var recent: RecentRing<String>
        var anomalies: RecentRing<String>
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
    let startedMs = Clock.monotonicMs()

    public init(configuration: Configuration = .init(), modelConfig: ModelConfig, modelConfigSource: String,
                metricsFactory: any MetricsFactory) {
        self.configuration = configuration
        self.metrics = ServerMetrics(factory: metricsFactory)
        self.state = Mutex(State(
            recent: RecentRing(capacity: configuration.recentResults),
            anomalies: RecentRing(capacity: configuration.anomalyHistory),
            modelConfig: modelConfig, modelConfigSource: modelConfigSource))
    }

    // MARK: Publishing

    public func publish(_ event: AgentEvent) {
        switch event {
        case .result(let device, let result):
            let json = ResultEncoder.json(result, device: device)
            let message = SharedMessage(event: "anomaly_result", dataJSON: json)
            let loops = state.withLock { state -> [LoopFanout] in
                state.record(result, device: device, json: json)
                return state.loops
            }
            metrics.recordResult(device: device, result)
            broadcast(message, to: loops)
        case .deviceStatus(let status):
            let message = SharedMessage(event: "device_status", dataJSON: status.json)
            let loops = state.withLock { state -> [LoopFanout] in
                state.devices[status.device, default: DeviceRecord()].status = status
                return state.loops
            }
            broadcast(message, to: loops)
        case .hello(let device, let hello):
            state.withLock { $0.devices[device, default: DeviceRecord()].hello = hello }
        case .counters(let device, let counters):
            state.withLock { $0.devices[device, default: DeviceRecord()].counters = counters }
            metrics.recordCounters(device: device, counters)
        case .configReloaded(let config, let source):
            state.withLock {
                $0.modelConfig = config
                $0.modelConfigSource = source
            }
        }
    }

    /// One `execute` per event loop with clients; each client's outlet writes or queues.
    private func broadcast(_ message: SharedMessage, to loops: [LoopFanout]) {
        let sent = metrics.messagesSent
        for loop in loops {
            let clients = loop.clients
            loop.eventLoop.execute {
                let now = Clock.monotonicMs()
                var written = 0
                for client in clients where client.outlet.value.deliver(message, nowMs: now) {
                    written += 1
                }
                if written > 0 { sent.increment(by: written) }
            }
        }
    }

    /// Records a `voltage_data` result (device `app`) for the history and metrics; it is
    /// answered to its sender only, as the original backend did.
    func recordAppResult(_ result: ScoredResult, json: String) {
        state.withLock { $0.record(result, device: "app", json: json) }
        metrics.recordResult(device: "app", result)
    }

    // MARK: Clients

    /// What a new client gets: its hub entry and the `hello` data taken in the same lock as
    /// the registration, so nothing published in between is lost or repeated. Broadcasts wait
    /// in the outlet until ``Client/open(helloText:)`` has written `hello`.
    struct Registration: Sendable {
        let client: Client
        let helloJSON: String
    }

    /// Joins a client, or nil when ``Configuration/maxClients`` are already connected.
    func register(kind: ClientKind, outlet: NIOLoopBound<ClientOutlet>, tally: ClientTally) -> Registration? {
        let registration = state.withLock { state -> Registration? in
            guard state.clients.count < configuration.maxClients else { return nil }
            let client = Client(id: state.nextID, kind: kind, outlet: outlet, tally: tally)
            state.nextID += 1
            state.clients[client.id] = client
            if let index = state.loops.firstIndex(where: { $0.eventLoop === client.eventLoop }) {
                state.loops[index].clients.append(client)
            } else {
                state.loops.append(LoopFanout(eventLoop: client.eventLoop, clients: [client]))
            }
            return Registration(client: client, helloJSON: helloJSON(state))
        }
        if registration != nil { metrics.clients[kind]?.increment() }
        return registration
    }

    func unregister(_ client: Client) {
        let outlet = client.outlet
        client.eventLoop.execute { outlet.value.close() }
        let removed = state.withLock { state -> Bool in
            guard state.clients.removeValue(forKey: client.id) != nil else { return false }
            if let index = state.loops.firstIndex(where: { $0.eventLoop === client.eventLoop }) {
                state.loops[index].clients.removeAll { $0 === client }
                if state.loops[index].clients.isEmpty { state.loops.remove(at: index) }
            }
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

    /// `/api/anomalies`: up to `limit` anomalies, newest first.
    func anomaliesJSON(limit: Int) -> String {
        let items = state.withLock { $0.anomalies.newestFirst(limit: limit) }
        return "{\"count\":\(items.count),\"anomalies\":[" + items.joined(separator: ",") + "]}"
    }

    /// `/api/status`: devices and their stream health, clients, uptime.
    func statusJSON() -> String {
        let nowMs = Clock.epochMs()
        let uptimeMs = Clock.monotonicMs() - startedMs
        return state.withLock { state in
            var ws = 0, sio = 0
            var dropped = state.droppedTotal
            for client in state.clients.values {
                if client.kind == .webSocket { ws += 1 } else { sio += 1 }
                dropped += client.tally.dropped.load(ordering: .relaxed)
            }
            let devices = state.devices.keys.sorted().map {
                state.devices[$0]!.statusJSON(device: $0, nowMs: nowMs, staleAfterMs: configuration.staleAfterMs)
            }
            var out = "{\"status\":\"ok\",\"version\":" + JSONText.string(VoltwatchVersion.string)
            out += ",\"uptime_seconds\":" + JSONText.seconds(fromMilliseconds: uptimeMs)
            out += ",\"devices\":[" + devices.joined(separator: ",") + "]"
            out += ",\"clients\":{\"connected\":\(ws + sio),\"ws\":\(ws),\"socketio\":\(sio),\"max\":\(configuration.maxClients)"
            out += ",\"dropped_messages\":\(dropped)}"
            out += ",\"anomalies_kept\":\(state.anomalies.count)}"
            return out
        }
    }
}

extension Hub.State {
    fileprivate mutating func record(_ result: ScoredResult, device: String, json: String) {
        var record = devices[device] ?? DeviceRecord()
        record.results += 1
        record.lastResultMs = result.timestampMs
        if result.isAnomaly {
            record.anomalies += 1
            anomalies.append(json)
        }
        devices[device] = record
        recent.append(json)
    }
}
