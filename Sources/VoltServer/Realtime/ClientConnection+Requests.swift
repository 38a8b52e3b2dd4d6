import NIOCore
import VoltCore

/// Client requests, answered in the order they came. `voltage_data` is scored at once on the
/// event loop; a simulation control waits for the fake device in a task, and requests behind
/// it wait their turn (a bounded few: a client that floods is told so).
extension ClientConnection {
    struct PendingRequest {
        let request: ClientRequest
        let ackID: Int?
    }

    static let maxWaitingRequests = 32

    func enqueue(_ request: ClientRequest, ackID: Int?) {
        guard !requestInFlight else {
            guard waitingRequests.count < Self.maxWaitingRequests else {
                answer(event: "error", dataJSON: WireText.errorData(
                    "too many requests waiting: wait for the answers before sending more"), ackID: ackID)
                return
            }
            waitingRequests.append(PendingRequest(request: request, ackID: ackID))
            return
        }
        start(request, ackID: ackID)
    }

    private func start(_ request: ClientRequest, ackID: Int?) {
        if case .voltageData(let volts, let timestampMs, let device) = request {
            let streams = appStreams ?? AppStreams(shared: server.appScorers)
            appStreams = streams
            let reply = server.answerVoltageData(volts: volts, timestampMs: timestampMs, device: device, streams: streams)
            answer(event: reply.event, dataJSON: reply.dataJSON, ackID: ackID)
            return
        }
        guard let context else { return }
        requestInFlight = true
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        let (server, logger) = (self.server, self.logger)
        Task {
            let reply = await server.perform(request, logger: logger)
            connection.eventLoop.execute {
                connection.value.finished(reply, ackID: ackID)
            }
        }
    }

    private func finished(_ reply: (event: String, dataJSON: String), ackID: Int?) {
        requestInFlight = false
        guard phase == .open else { return }
        answer(event: reply.event, dataJSON: reply.dataJSON, ackID: ackID)
        while !requestInFlight, !waitingRequests.isEmpty {
            let next = waitingRequests.removeFirst()
            start(next.request, ackID: next.ackID)
        }
    }

    /// The event answering a request, in the client's framing; Socket.IO also acks it.
    func answer(event: String, dataJSON: String, ackID: Int?) {
        sendText(WireText.text(kind, event: event, dataJSON: dataJSON))
        if let ackID, let socketIO {
            sendText(socketIO.ack(ackID, dataJSON: dataJSON))
        }
    }
}
