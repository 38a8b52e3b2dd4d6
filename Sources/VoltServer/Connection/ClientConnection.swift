import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// One upgraded WebSocket client, as a channel handler on its event loop: it reads the client's
/// frames, answers pings and requests, sends keep-alive pings, runs the close handshake and
/// graceful shutdown, and receives the hub's broadcasts.
///
/// There is no task per connection. A thousand phones cost a thousand small objects, and a
/// broadcast reaches each socket in one `write(2)` straight from the event loop.
///
/// It sits at the end of the pipeline, behind NIO's frame decoder and fragment aggregator, and
/// writes finished frames (``ServerFrame``) itself, through a ``FrameWriter`` placed before
/// NIO's frame encoder.
/// The protocol spoken on top lives in the `+WebSocket` (`/ws`) and `+SocketIO` extensions,
/// the broadcast path in `+Broadcast`, and client requests in `+Requests`.
final class ClientConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    enum Phase {
        case open
        /// A close frame was sent; waiting for the client's (or the close timeout).
        case closing
        case closed
    }

    let server: VoltServer
    let kind: ClientKind
    let credentials: ClientCredentials
    let logger: Logger
    let writer: FrameWriter
    var context: ChannelHandlerContext?
    var phase = Phase.open

    // Keep-alive: a ping every interval; no pong by the next one means the client is gone.
    private var keepAlive: Scheduled<Void>?
    private var awaitingPong = false
    private var closeDeadline: Scheduled<Void>?

    // Hub: see +Broadcast.
    var registration: Hub.Client?
    var coveredThrough: UInt64 = 0
    var outbox: ClientOutbox<SharedMessage>
    var writable = true
    var batch: [SharedMessage] = []
    let tally = ClientTally()

    // Requests: see +Requests.
    var requestInFlight = false
    var waitingRequests: [PendingRequest] = []

    // Socket.IO: see +SocketIO.
    var socketIO: SocketIOSession?
    var heartbeat: Scheduled<Void>?

    init(server: VoltServer, kind: ClientKind, credentials: ClientCredentials, writer: FrameWriter, logger: Logger) {
        self.server = server
        self.writer = writer
        self.kind = kind
        self.credentials = credentials
        self.logger = logger
        self.outbox = ClientOutbox(capacity: server.hub.configuration.queueCapacity,
                                   overBudgetGraceMs: server.hub.configuration.slowClientGraceMs)
    }

    var hub: Hub { server.hub }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        // Results are small and must leave at once.
        try? context.channel.syncOptions?.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        scheduleKeepAlive()
        switch kind {
        case .webSocket: startWebSocket()
        case .socketIO: startSocketIO()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    /// Leaves the hub and stops every timer; safe to call more than once.
    private func finish() {
        phase = .closed
        writer.release()
        outbox.close()
        keepAlive?.cancel()
        keepAlive = nil
        closeDeadline?.cancel()
        closeDeadline = nil
        heartbeat?.cancel()
        heartbeat = nil
        waitingRequests.removeAll()
        if let client = registration {
            registration = nil
            hub.unregister(client, connection: self)
        }
    }

    // MARK: Frames from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // No extension is negotiated, so a set RSV bit is an error (RFC 6455 §5.2).
        guard !(frame.rsv1 || frame.rsv2 || frame.rsv3) else {
            abort(code: .protocolError, reason: "reserved bits set")
            return
        }
        switch frame.opcode {
        case .text:
            guard phase == .open else { return }
            switch kind {
            case .webSocket: receivedWebSocket(text: frame.unmaskedData)
            case .socketIO: receivedSocketIO(text: frame.unmaskedData)
            }
        case .binary:
            guard phase == .open else { return }
            answer(event: "error", dataJSON: WireText.errorData(
                "binary messages are not supported: send JSON text"), ackID: nil)
        case .ping:
            guard phase != .closed else { return }
            send(ServerFrame.control(.pong, payload: frame.unmaskedData, allocator: context.channel.allocator))
        case .pong:
            awaitingPong = false
        case .connectionClose:
            closeReceived(frame.unmaskedData)
        default:
            // An unknown opcode fails the connection (RFC 6455 §5.2); continuations never get
            // here, the aggregator joins them.
            abort(code: .protocolError, reason: "unknown opcode")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: tell the client, give it the close timeout to answer.
            close(code: .goingAway, reason: "server shutting down")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength, NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            abort(code: .messageTooLarge,
                  reason: "message over \(server.configuration.maxClientMessageBytes) bytes")
        case is NIOWebSocketError, is NIOWebSocketFrameAggregator.Error:
            abort(code: .protocolError, reason: "WebSocket protocol error")
        default:
            logger.debug("client connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// The client's close frame: answer it with the same code (unless we started the
    /// handshake), then close the connection, as RFC 6455 §5.5.1 asks of a server.
    private func closeReceived(_ payload: ByteBuffer) {
        guard let context else { return }
        switch phase {
        case .open:
            phase = .closing
            outbox.close()
            updateLane()
            var payload = payload
            let code = payload.readInteger(as: UInt16.self) ?? WebSocketErrorCode.normalClosure.code
            closeAfter(ServerFrame.close(code: Self.isSendable(code) ? code : WebSocketErrorCode.normalClosure.code,
                                         reason: "", allocator: context.channel.allocator))
        case .closing:
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    // MARK: Writing

    /// Writes a finished frame now (replies, pings, the close frame): these do not queue
    /// behind broadcasts.
    func send(_ frame: ByteBuffer) {
        writer.writeAndFlush(frame)
    }

    func sendText(_ text: String) {
        guard let context else { return }
        send(ServerFrame.text(text, allocator: context.channel.allocator))
    }

    /// Starts the close handshake: no more broadcasts, a close frame, and the connection is
    /// closed when the client answers or after the close timeout.
    func close(code: WebSocketErrorCode, reason: String) {
        guard phase == .open, let context else { return }
        phase = .closing
        outbox.close()
        updateLane()
        send(ServerFrame.close(code: code.code, reason: reason, allocator: context.channel.allocator))
        closeDeadline = context.eventLoop.assumeIsolated().scheduleTask(
            in: .milliseconds(server.configuration.closeTimeoutMs)
        ) { [self] in
            self.context?.close(promise: nil)
        }
    }

    /// A close frame, then the connection closes without waiting for an answer: after a
    /// protocol error nothing more the client sends can be read.
    private func abort(code: WebSocketErrorCode, reason: String) {
        guard phase != .closed, let context else { return }
        guard phase == .open else {
            context.close(promise: nil)
            return
        }
        phase = .closing
        outbox.close()
        updateLane()
        closeAfter(ServerFrame.close(code: code.code, reason: reason, allocator: context.channel.allocator))
    }

    private func closeAfter(_ frame: ByteBuffer) {
        guard let context else { return }
        writer.writeAndFlush(frame, on: context.eventLoop).assumeIsolated().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }

    private func scheduleKeepAlive() {
        guard let context else { return }
        keepAlive = context.eventLoop.assumeIsolated().scheduleTask(
            in: .milliseconds(server.configuration.pingIntervalMs)
        ) { [self] in
            keepAliveTick()
        }
    }

    private func keepAliveTick() {
        guard phase == .open, let context else { return }
        if awaitingPong {
            logger.debug("client did not answer a ping: dropping it")
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        send(ServerFrame.control(.ping, payload: context.channel.allocator.buffer(string: "voltwatch"),
                                 allocator: context.channel.allocator))
        scheduleKeepAlive()
    }

    /// Close codes an endpoint may put on the wire (RFC 6455 §7.4).
    private static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: true
        default: false
        }
    }
}

extension WebSocketErrorCode {
    /// The number on the wire.
    var code: UInt16 { UInt16(webSocketErrorCode: self) }
}
