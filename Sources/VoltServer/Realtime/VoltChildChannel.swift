import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import VoltCore

/// How the server sets up each accepted connection, for hummingbird's `Server`.
///
/// Plain HTTP requests go to hummingbird's router, one task per connection as hummingbird
/// serves them. A WebSocket handshake on `/ws` or `/socket.io/` turns the connection into a
/// ``ClientConnection`` channel handler, and its task ends there: a connected phone costs a
/// few small objects on an event loop rather than a suspended task with its stack, and a
/// broadcast reaches it with one hop per event loop, not one per client. Graceful shutdown reaches those handlers as
/// NIO's `ChannelShouldQuiesceEvent`, which hummingbird's server sends every open connection.
///
/// The pipeline is hummingbird-websocket's (NIO's typed HTTP upgrade); only what follows the
/// upgrade differs.
struct VoltChildChannel: ServerChildChannel, HTTPChannelHandler {
    enum Negotiated: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse.Status, String)
        case webSocket
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let server: VoltServer

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let verdict = NIOLoopBoundBox<UpgradeVerdict?>(nil, eventLoop: channel.eventLoop)
            let server = self.server
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: server.configuration.maxClientMessageBytes,
                enableAutomaticErrorHandling: false,  // ClientConnection answers protocol errors
                shouldUpgrade: { channel, head in
                    let decided = server.upgradeVerdict(head)
                    verdict.value = decided
                    guard case .upgrade = decided else { return channel.eventLoop.makeSucceededFuture(nil) }
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .upgrade(let kind, let credentials, let upgradingFrom)? = verdict.value else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        let pipeline = channel.pipeline.syncOperations
                        // HTTP is over: the parse-error responder would see WebSocket frames.
                        pipeline.removeHandler(name: HTTPParseErrorResponder.name, promise: nil)
                        let encodedFrames = EncodedFrameWriter()
                        try pipeline.addHandler(encodedFrames,
                                                position: .before(pipeline.handler(type: WebSocketFrameEncoder.self)))
                        try pipeline.addHandler(MaskedFramesOnly())
                        try pipeline.addHandler(NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: server.configuration.maxClientMessageBytes))
                        try pipeline.addHandler(ClientConnection(
                            server: server, kind: kind, credentials: credentials, encodedFrames: encodedFrames,
                            upgradingFrom: upgradingFrom, logger: logger))
                        return .webSocket
                    }
                })

            let upgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandler(HTTPConnectionStateHandler(
                            idleTimeout: .milliseconds(server.configuration.idleTimeoutMs), logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .refuse(let status, let message)? = verdict.value {
                            return .refused(http, HTTPResponse.Status(code: Int(status.code)), message)
                        }
                        return .http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: upgrade)
            configuration.enablePipelining = false  // NIOAsyncChannel takes one request at a time
            configuration.enableErrorHandling = false  // HTTPParseErrorResponder answers parse errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validates
            let pipeline = channel.pipeline.syncOperations
            let negotiated = try pipeline.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // Parse errors (an 80 KB+ head, garbage) get a status at once, not silence.
            try pipeline.addHandler(HTTPParseErrorResponder(), name: HTTPParseErrorResponder.name,
                                    position: .after(pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)))
            // A connection that never completes its first request is closed: it would otherwise
            // hold a channel and a task for good.
            let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(server.configuration.idleTimeoutMs)) {
                channel.close(promise: nil)
            }
            negotiated.whenComplete { _ in deadline.cancel() }
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let status, let message):
                logger.info("refused WebSocket handshake", metadata: ["reason": "\(message)"])
                await refuse(http, status: status, message: message)
            case .webSocket:
                break  // the connection lives on as a ClientConnection handler
            }
        } catch {
            logger.debug("connection setup failed", metadata: ["error": "\(error)"])
        }
    }

    /// A refused handshake gets a JSON error like every other refusal, then the connection closes.
    private func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, status: HTTPResponse.Status, message: String) async {
        let body = ByteBuffer(string: "{\"error\":" + JSONText.string(message) + "}")
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/json; charset=utf-8",
            .contentLength: String(body.readableBytes),
            .connection: "close",
        ])
        try? await http.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }
}
