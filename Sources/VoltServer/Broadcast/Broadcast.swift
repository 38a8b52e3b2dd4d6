public import NIOCore
import VoltCore

/// One event for every client, encoded once: the `/ws` text (`{"event":...,"data":...}`) and
/// the Socket.IO text (`42["event",data]`). Every client on an event loop is written the same
/// buffer (NIO's WebSocket encoder puts the frame header in a buffer of its own), so a
/// broadcast costs one encoding, not one per client.
public struct Broadcast: Sendable {
    /// Where the broadcast stands among everything the hub published. A client that joins gets
    /// the recent results in its `hello`; broadcasts numbered before that are not sent again.
    public let sequence: UInt64
    public let webSocketText: ByteBuffer
    public let socketIOText: ByteBuffer

    public init(event: String, dataJSON: String, sequence: UInt64 = 0) {
        self.sequence = sequence
        webSocketText = ByteBuffer(string: WireText.webSocket(event: event, dataJSON: dataJSON))
        socketIOText = ByteBuffer(string: WireText.socketIO(event: event, dataJSON: dataJSON))
    }

    private init(sequence: UInt64, webSocketText: ByteBuffer, socketIOText: ByteBuffer) {
        self.sequence = sequence
        self.webSocketText = webSocketText
        self.socketIOText = socketIOText
    }

    /// The same broadcast in buffers of its own. Each event loop gets its own copy, so two
    /// cores writing to their clients do not share one buffer's reference count.
    public func copy() -> Broadcast {
        Broadcast(sequence: sequence, webSocketText: ByteBuffer(buffer: webSocketText),
                  socketIOText: ByteBuffer(buffer: socketIOText))
    }

    /// The text for a client speaking `kind`.
    public func text(for kind: ClientKind) -> ByteBuffer {
        kind == .webSocket ? webSocketText : socketIOText
    }
}
