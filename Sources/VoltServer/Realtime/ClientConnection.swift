import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import VoltCore

/// One upgraded WebSocket client, as a channel handler on its event loop: it reads the client's
/// frames, answers pings and requests, sends keep-alive pings, runs the close handshake and
/// graceful shutdown, and receives the hub's broadcasts.
///
/// There is no task per connection: a connected phone costs a few small objects, and a
/// broadcast is written to it from its event loop through NIO's pipeline, like every other
/// frame.
///
/// It sits at the end of the pipeline, behind NIO's frame decoder and fragment aggregator. It
/// writes its own frames (replies, pings, closes) as `WebSocketFrame`s through NIO's encoder,
/// and broadcasts, encoded once for everyone, through an ``EncodedFrameWriter``.
/// The protocol spoken on top lives in the `+WebSocket` (`/ws`) and `+SocketIO` extensions,
/// the broadcast path in `+Broadcast`, and client requests in `+Requests`.
final class ClientConnection: ChannelInboundHandler, RemovableChannelHandler, BroadcastReceiver {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

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
    /// Where broadcasts, encoded once for every client, are written past NIO's frame encoder.
    let encodedFrames: EncodedFrameWriter
    var context: ChannelHandlerContext?
    var phase = Phase.open

    // Keep-alive: a ping every interval; no pong by the next one means the client is gone.
    private var keepAlive: Scheduled<Void>?
    private var awaitingPong = false
    private var closeDeadline: Scheduled<Void>?

    // Hub: see +Broadcast.
    var registration: Hub.Client?
    var coveredThrough: UInt64 = 0
    var outbox: ClientOutbox<Broadcast>
    var writable = true
    var batch: [Broadcast] = []
    let tally = ClientTally()

    // Requests: see +Requests.
    var requestInFlight = false
    var waitingRequests: [PendingRequest] = []
    /// This client's `voltage_data` scorers, made on its first sample, freed when it leaves.
    var appStreams: AppStreams?

    // Socket.IO: see +SocketIO.
    var socketIO: SocketIOSession?
    var heartbeat: Scheduled<Void>?
    /// The polling session this websocket takes over once the client sends `5`.
    var upgradingFrom: String?
    /// Frames that came after `5`, before the hand-over finished; nil when not upgrading.
    var upgradeBacklog: [String]?

    init(server: VoltServer, kind: ClientKind, credentials: ClientCredentials,
         encodedFrames: EncodedFrameWriter, upgradingFrom: String? = nil, logger: Logger) {
        self.upgradingFrom = upgradingFrom
        self.server = server
        self.encodedFrames = encodedFrames
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
        outbox.close()
        // Drops the client was never told of (it left or was cut off before its socket
        // drained) count too, once.
        let unannounced = outbox.takeUnannouncedDrops()
        if unannounced > 0 { hub.metrics.messagesDropped.increment(by: unannounced) }
        keepAlive?.cancel()
        keepAlive = nil
        closeDeadline?.cancel()
        closeDeadline = nil
        heartbeat?.cancel()
        heartbeat = nil
        waitingRequests.removeAll()
        appStreams = nil
        if let client = registration {
            registration = nil
            hub.unregister(client, receiver: self)
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
            // A text message that is not UTF-8 fails the connection (RFC 6455 §8.1), 1007.
            let text = frame.unmaskedData
            guard Self.isUTF8(text) else {
                abort(code: .dataInconsistentWithMessage, reason: "text message is not valid UTF-8")
                return
            }
            switch kind {
            case .webSocket: receivedWebSocket(text: text)
            case .socketIO: receivedSocketIO(text: text)
            }
        case .binary:
            guard phase == .open else { return }
            answer(event: "error", dataJSON: WireText.errorData(
                "binary messages are not supported: send JSON text"), ackID: nil)
        case .ping:
            guard phase != .closed else { return }
            send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
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
        case is MaskedFramesOnly.UnmaskedFrame:
            abort(code: .protocolError, reason: "client frames must be masked")
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
            var payload = payload
            let code = payload.readInteger(as: UInt16.self) ?? WebSocketErrorCode.normalClosure.code
            closeAfter(.serverClose(code: Self.isSendable(code) ? code : WebSocketErrorCode.normalClosure.code,
                                    reason: "", allocator: context.channel.allocator))
        case .closing:
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    // MARK: Writing

    /// Writes a frame now (replies, pings, the close frame): these do not queue behind
    /// broadcasts.
    func send(_ frame: WebSocketFrame) {
        context?.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func sendText(_ text: String) {
        guard let context else { return }
        send(.serverText(context.channel.allocator.buffer(string: text)))
    }

    /// Starts the close handshake: no more broadcasts, a close frame, and the connection is
    /// closed when the client answers or after the close timeout.
    func close(code: WebSocketErrorCode, reason: String) {
        guard phase == .open, let context else { return }
        phase = .closing
        outbox.close()
        send(.serverClose(code: code.code, reason: reason, allocator: context.channel.allocator))
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
        closeAfter(.serverClose(code: code.code, reason: reason, allocator: context.channel.allocator))
    }

    private func closeAfter(_ frame: WebSocketFrame) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { [self] _ in
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
        send(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(string: "voltwatch")))
        scheduleKeepAlive()
    }

    static func isUTF8(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) != nil }
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
