public import CoreMetrics
import NIOCore
import Synchronization
public import VoltCore

/// Fans every ``AgentEvent`` out to the connected clients and keeps the latest state the HTTP
/// API reports.
///
/// ``publish(_:)`` is called by the serial reader for every sample and must never wait: it
/// numbers the event under a short lock (with the state the API reports), frames it once
/// (``SharedMessage``), and hands it to each event loop that serves clients in one
/// `eventLoop.execute`, or writes it itself to the clients of a loop on its own CPU or with
/// few clients (``LoopSlot``). Either way each client's ``ExpressLane`` takes it straight to
/// the socket while the socket takes data; otherwise its ``ClientConnection`` keeps it in the
/// client's bounded outbox, which drops the oldest message rather than grow. No task per
/// client and no hop per client per message.
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
    /// The connection itself is only touched on its event loop, through its ``LoopRoster``.
    final class Client: Sendable {
        let id: Int
        let kind: ClientKind
        let tally: ClientTally
        let slot: LoopSlot

        init(id: Int, kind: ClientKind, tally: ClientTally, slot: LoopSlot) {
            self.id = id
            self.kind = kind
            self.tally = tally
            self.slot = slot
        }
    }

    fileprivate struct State: Sendable {
        var clients: [Int: Client] = [:]
        /// One slot per event loop that has served a client; a broadcast copies this array.
        var slots: [LoopSlot] = []
        var nextID = 1
        /// Broadcasts numbered so far (``SharedMessage/sequence``).
        var published: UInt64 = 0
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
            let (sequence, slots) = state.withLock { state in
                state.record(result, device: device, json: json)
                return state.nextBroadcast()
            }
            broadcast(SharedMessage(event: "anomaly_result", dataJSON: json, sequence: sequence), to: slots)
            // After the clients: the counters can wait a few microseconds, the phones should not.
            metrics.recordResult(device: device, result)
        case .deviceStatus(let status):
            let json = status.json
            let (sequence, slots) = state.withLock { state in
                state.devices[status.device, default: DeviceRecord()].status = status
                return state.nextBroadcast()
            }
            broadcast(SharedMessage(event: "device_status", dataJSON: json, sequence: sequence), to: slots)
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

    /// Loops elsewhere are handed the broadcast first, in ``LoopSlot/wakeOrder(lastCPUs:publisherCPU:)``,
    /// so they write in parallel; then the publisher writes itself to the clients of the loop
    /// on its own CPU and of loops with few clients (``LoopSlot``), which saves a thread
    /// wake-up on the way to them.
    ///
    /// Every loop handed the broadcast but the first gets its own copy of the frames: a
    /// thousand writes retain and release the buffer a thousand times, and two cores doing that
    /// to one shared reference count would pass its cache line back and forth on every write.
    private func broadcast(_ message: SharedMessage, to slots: [LoopSlot]) {
        let publisherCPU = LoopSlot.currentCPU()
        var onLoops: [LoopSlot] = []
        var express: [(slot: LoopSlot, lanes: [ExpressLane])] = []
        for slot in slots {
            if let lanes = slot.expressLanes(publisherCPU: publisherCPU) {
                express.append((slot, lanes))
            } else {
                onLoops.append(slot)
            }
        }
        let order = LoopSlot.wakeOrder(lastCPUs: onLoops.map(\.lastCPU), publisherCPU: publisherCPU)
        for (position, index) in order.enumerated() {
            onLoops[index].deliverOnLoop(position == 0 && express.isEmpty ? message : message.copy())
        }
        for (slot, lanes) in express {
            let (sent, leftovers) = slot.expressPass(message, lanes: lanes)
            if sent > 0 { metrics.messagesSent.increment(by: sent) }
            if !leftovers.isEmpty {
                slot.eventLoop.execute { slot.deliverLeftovers(leftovers) }
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

    /// What a new client gets: its hub entry, the `hello` data, and the number of the last
    /// broadcast that `hello` already covers, all taken in one lock so nothing published in
    /// between is lost or sent twice.
    struct Registration: Sendable {
        let client: Client
        let helloJSON: String
        let coveredThrough: UInt64
    }

    /// Joins a connection, on its event loop; nil when ``Configuration/maxClients`` are
    /// already connected. Broadcasts reach it from the next one on; the caller writes `hello`
    /// before returning to the loop, so it always comes first.
    func register(_ connection: ClientConnection, kind: ClientKind, tally: ClientTally, on eventLoop: any EventLoop) -> Registration? {
        let registration = state.withLock { state -> Registration? in
            guard state.clients.count < configuration.maxClients else { return nil }
            let slot: LoopSlot
            if let existing = state.slots.first(where: { $0.eventLoop === eventLoop }) {
                slot = existing
            } else {
                slot = LoopSlot(roster: NIOLoopBound(LoopRoster(sent: metrics.messagesSent), eventLoop: eventLoop))
                state.slots.append(slot)
            }
            let client = Client(id: state.nextID, kind: kind, tally: tally, slot: slot)
            state.nextID += 1
            state.clients[client.id] = client
            // In the same lock as `coveredThrough`: a broadcast numbered after it finds the lane.
            slot.join(connection.writer.lane)
            return Registration(client: client, helloJSON: helloJSON(state), coveredThrough: state.published)
        }
        guard let registration else { return nil }
        registration.client.slot.roster.value.add(connection)
        metrics.clients[kind]?.increment()
        return registration
    }

    /// Leaves, on the connection's event loop.
    func unregister(_ client: Client, connection: ClientConnection) {
        client.slot.leave(connection.writer.lane)
        client.slot.roster.value.remove(connection)
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
    /// Numbers a broadcast and names the loops it goes to.
    fileprivate mutating func nextBroadcast() -> (UInt64, [LoopSlot]) {
        published += 1
        return (published, slots)
    }

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
