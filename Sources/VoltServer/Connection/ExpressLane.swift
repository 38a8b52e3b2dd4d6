import NIOCore
import Synchronization

/// The way into one client's socket that the publisher (the serial reader's thread) may use
/// itself, without waking the client's event loop.
///
/// Why: with one or a few clients, handing a broadcast to an event loop costs a thread wake-up
/// (on this VM about 80 µs, a third of the whole latency) for a few microseconds of work. So
/// the hub writes broadcasts for the loop on the publisher's own CPU, and for loops with few
/// clients, straight from the publisher (``LoopSlot/expressPass(_:)``), through this lane.
///
/// The lane holds the connection's duplicated socket (``ChannelSocket``); every direct send,
/// the publisher's and the event loop's own (``FrameWriter``), happens under its lock, so
/// frames never interleave. The loop keeps the lane **open** only while a broadcast may go
/// straight out: the client joined and said `hello`, its socket takes data, nothing waits in
/// its outbox or in NIO, and nothing waits here. Otherwise the publisher leaves the broadcast
/// in the lane's **mail**, and the loop delivers it by the usual rules (outbox, writability,
/// slow-client budget), in order.
///
/// A send the kernel takes only in part closes the lane and leaves the **rest** here: the loop
/// writes it before any other byte of that connection (``FrameWriter``).
final class ExpressLane: Sendable {
    /// What the publisher did with a broadcast.
    enum Offer: Equatable {
        /// Written to the socket.
        case sent
        /// Not for this client (its `hello` covered it, or it is gone).
        case skipped
        /// Left for the event loop: in the mail, or begun and its rest waiting.
        case leftForLoop
    }

    struct State: ~Copyable {
        var socket: ChannelSocket?
        /// The socket's descriptor (-1: none), kept here so a broadcast touches one object.
        var descriptor: Int32 = -1
        var open = false
        /// The last broadcast `hello` covered: older ones are not sent.
        var coveredThrough: UInt64 = 0
        var mail: [SharedMessage] = []
        var rest: ByteBuffer?
        var released = false
    }

    let kind: ClientKind
    private let state: Mutex<State>

    init(kind: ClientKind) {
        self.kind = kind
        state = Mutex(State())
    }

    /// Whether a duplicated socket backs the lane (the connection can write past NIO at all).
    var hasSocket: Bool { state.withLock { $0.socket != nil } }

    /// Whether the publisher may write broadcasts now.
    var isOpen: Bool { state.withLock { $0.open } }

    // MARK: The publisher's side

    /// Writes `message` to the socket if the lane is open, else leaves it for the loop.
    func offer(_ message: SharedMessage) -> Offer {
        state.withLock { state in
            guard !state.released, message.sequence > state.coveredThrough else { return .skipped }
            guard state.open, state.descriptor >= 0 else {
                state.mail.append(message)
                return .leftForLoop
            }
            let frame = message.frame(for: kind)
            switch ChannelSocket.send(frame, to: state.descriptor) {
            case .sent:
                return .sent
            case .partial(let count):
                var rest = frame
                rest.moveReaderIndex(forwardBy: count)
                state.rest = rest
            case .failed:
                // NIO gets the whole frame and, with it, the error and the close.
                state.rest = frame
            }
            state.open = false
            return .leftForLoop
        }
    }

    // MARK: The event loop's side

    /// Gives the lane its socket, once the channel is in a pipeline.
    func attach(_ socket: ChannelSocket?) {
        state.withLock { state in
            guard !state.released else {
                socket?.close()
                return
            }
            state.socket = socket
            state.descriptor = socket?.descriptor ?? -1
        }
    }

    /// Notes what `hello` covered; called when the client joins, before the lane opens.
    func setCoveredThrough(_ sequence: UInt64) {
        state.withLock { $0.coveredThrough = sequence }
    }

    /// Opens the lane if `mayOpen` and nothing waits here; closes it otherwise.
    /// Returns whether it is open.
    @discardableResult
    func update(mayOpen: Bool) -> Bool {
        state.withLock { state in
            state.open = mayOpen && !state.released && state.socket != nil && state.mail.isEmpty && state.rest == nil
            return state.open
        }
    }

    /// Takes the broadcasts the publisher left, oldest first.
    func takeMail() -> [SharedMessage] {
        state.withLock { state in
            defer { state.mail = [] }
            return state.mail
        }
    }

    /// For one of the loop's own frames: takes the rest of a frame the publisher began (it must
    /// be written before anything else), and when there is none and `direct` allows, sends
    /// `frame` straight to the socket under the lane's lock. `outcome` is nil when the frame
    /// was not sent. A frame not wholly sent closes the lane: its rest goes through NIO, and
    /// the loop reopens the lane once NIO has written it.
    func write(_ frame: ByteBuffer, direct: Bool) -> (rest: ByteBuffer?, outcome: ChannelSocket.SendOutcome?) {
        state.withLock { state in
            if let rest = state.rest {
                state.rest = nil
                return (rest, nil)
            }
            guard direct, let socket = state.socket else { return (nil, nil) }
            let outcome = socket.send(frame)
            if outcome != .sent { state.open = false }
            return (nil, outcome)
        }
    }

    /// Takes the rest of a frame the publisher began, if any.
    func takeRest() -> ByteBuffer? {
        state.withLock { state in
            defer { state.rest = nil }
            return state.rest
        }
    }

    /// Closes the lane for good and gives up the duplicated socket; the connection is going.
    func release() {
        state.withLock { state in
            state.released = true
            state.open = false
            state.mail = []
            state.rest = nil
            state.socket?.close()
            state.socket = nil
            state.descriptor = -1
        }
    }
}
