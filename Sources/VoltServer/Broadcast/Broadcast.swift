public import NIOCore
import VoltCore

/// One event for every client, encoded once as a complete WebSocket text frame per framing:
/// `/ws` (`{"event":...,"data":...}`) and Socket.IO (`42["event",data]`). Every client on an
/// event loop is written the same buffer (``EncodedFrameWriter``), so a broadcast costs one
/// encoding and one buffer, not one per client.
public struct Broadcast: Sendable {
    /// Where the broadcast stands among everything the hub published. A client that joins gets
    /// the recent results in its `hello`; broadcasts numbered before that are not sent again.
    public let sequence: UInt64
    public let webSocketFrame: ByteBuffer
    public let socketIOFrame: ByteBuffer

    public init(event: String, dataJSON: String, sequence: UInt64 = 0) {
        self.sequence = sequence
        webSocketFrame = EncodedFrame.text(WireText.webSocket(event: event, dataJSON: dataJSON))
        socketIOFrame = EncodedFrame.text(WireText.socketIO(event: event, dataJSON: dataJSON))
    }

    private init(sequence: UInt64, webSocketFrame: ByteBuffer, socketIOFrame: ByteBuffer) {
        self.sequence = sequence
        self.webSocketFrame = webSocketFrame
        self.socketIOFrame = socketIOFrame
    }

    /// The same broadcast in buffers of its own. Each event loop gets its own copy, so two
    /// cores writing to their clients do not share one buffer's reference count.
    public func copy() -> Broadcast {
        Broadcast(sequence: sequence, webSocketFrame: ByteBuffer(buffer: webSocketFrame),
                  socketIOFrame: ByteBuffer(buffer: socketIOFrame))
    }

    /// The frame for a client speaking `kind`.
    public func frame(for kind: ClientKind) -> ByteBuffer {
        kind == .webSocket ? webSocketFrame : socketIOFrame
    }

    /// The Socket.IO text (`42["event",data]`) without its frame header, for the long-polling
    /// transport; a view of the same storage, not a copy.
    public var socketIOText: ByteBuffer { EncodedFrame.payload(of: socketIOFrame) }
}
