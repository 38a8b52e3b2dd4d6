import NIOCore
import NIOHTTP1
import VoltCore

/// Answers a request NIO's HTTP parser refuses, at once and in the API's error shape: 431 for
/// a request line or headers over the parser's limit (80 KB: a 90 KB query string, a 4 MB
/// header), 400 for anything else malformed. Without it the connection waited silently for
/// the idle timeout, and the client never learnt why.
///
/// It sits right after the request decoder, where NIO's own `HTTPServerProtocolErrorHandler`
/// would (that one answers every parse error with an empty 400). It tracks whether a response
/// is already under way, since an error response can only be sent before one starts.
final class HTTPParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Its name in the pipeline, by which a WebSocket upgrade removes it.
    static let name = "voltwatch.http-parse-errors"

    private var responseUnderWay = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responseUnderWay {
            let (status, message) = Self.answer(to: parseError)
            let body = context.channel.allocator.buffer(string: "{\"error\":" + JSONText.string(message) + "}")
            let headers = HTTPHeaders([
                ("Content-Type", "application/json"),
                ("Content-Length", String(body.readableBytes)),
                ("Connection", "close"),
            ])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                          promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            responseUnderWay = true
        }
        // The decoder closes the connection after this; others may still want to see the error.
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responseUnderWay = true
        case .end:
            responseUnderWay = false
        default:
            break
        }
        context.write(data, promise: promise)
    }

    static func answer(to error: HTTPParserError) -> (HTTPResponseStatus, String) {
        switch error {
        case .headerOverflow:
            (.requestHeaderFieldsTooLarge,
             "the request line and headers are over 80 KB: shorten the URL or the headers")
        default:
            (.badRequest, "malformed HTTP request (\(error)): send an HTTP/1.1 request")
        }
    }
}
