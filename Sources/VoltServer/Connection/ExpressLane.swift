#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore

/// The way into one client's socket that the publisher (the serial reader's thread) may use
/// itself, without waking the client's event loop.
///
/// Why: with one or a few clients, handing a broadcast to an event loop costs a thread wake-up
/// (on this VM about 80 µs, a third of the whole latency) for a few microseconds of work. So
/// the hub writes broadcasts for the loop on the publisher's own CPU, and for loops with few
/// clients, straight from the publisher (``LoopSlot/expressPass(_:lanes:)``), through this lane.
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
///
/// A pass over many lanes sends in one batch (``SendBatch``): it takes each open lane's lock
/// (``claim(_:)``), sends to all, then applies each outcome and lets go (``finish(_:frame:)``).
/// Locks are always taken in the order of the slot's lane list, and nothing else holds two.
final class ExpressLane: @unchecked Sendable {
    /// What the publisher did with a broadcast.
    enum Offer: Equatable {
        /// Written to the socket.
        case sent
        /// Not for this client (its `hello` covered it, or it is gone).
        case skipped
        /// Left for the event loop: in the mail, or begun and its rest waiting.
        case leftForLoop
    }

    /// What ``claim(_:)`` decided.
    enum Claim: Equatable {
        /// Send the frame to this descriptor, then call ``finish(_:frame:)``: the lock is held.
        case send(descriptor: Int32)
        case skipped
        case leftForLoop
    }

    struct State {
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
    /// Guards ``state``: a lock with separate lock and unlock, so a batch can hold it across
    /// its one system call (hence `@unchecked Sendable`: `state` is only touched under it).
    private let lock = NIOLock()
    private var _state = State()

    init(kind: ClientKind) {
        self.kind = kind
    }

    /// Runs `body` on the state under the lock.
    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        lock.withLock { body(&_state) }
    }

    /// Whether a duplicated socket backs the lane (the connection can write past NIO at all).
    var hasSocket: Bool { withState { $0.socket != nil } }

    /// Whether the publisher may write broadcasts now.
    var isOpen: Bool { withState { $0.open } }

    // MARK: The publisher's side

    /// Writes `message` to the socket if the lane is open, else leaves it for the loop.
    func offer(_ message: SharedMessage) -> Offer {
        switch claim(message) {
        case .skipped: return .skipped
        case .leftForLoop: return .leftForLoop
        case .send(let descriptor):
            let frame = message.frame(for: kind)
            let result = frame.withUnsafeReadableBytes { bytes in
                SendBatch.sendOne(descriptor, bytes.baseAddress, bytes.count)
            }
            return finish(result, frame: frame)
        }
    }

    /// The first half of an offer: when the lane is open, takes its lock and keeps it, and
    /// returns the descriptor to send to; otherwise leaves `message` in the mail (or skips it)
    /// and lets the lock go.
    func claim(_ message: SharedMessage) -> Claim {
        lock.lock()
        guard !_state.released, message.sequence > _state.coveredThrough else {
            lock.unlock()
            return .skipped
        }
        guard _state.open, _state.descriptor >= 0 else {
            _state.mail.append(message)
            lock.unlock()
            return .leftForLoop
        }
        return .send(descriptor: _state.descriptor)
    }

    /// The second half, after a ``Claim/send(descriptor:)``: `result` is what `send(2)` returned
    /// for `frame` (bytes taken, or -errno). A frame not wholly sent closes the lane and leaves
    /// its rest for the loop (after an error, all of it: NIO then reports the error). Lets the
    /// lock go.
    func finish(_ result: Int, frame: ByteBuffer) -> Offer {
        defer { lock.unlock() }
        if result == frame.readableBytes { return .sent }
        var rest = frame
        if result > 0 { rest.moveReaderIndex(forwardBy: result) }
        _state.rest = rest
        _state.open = false
        return .leftForLoop
    }

    // MARK: The event loop's side

    /// Gives the lane its socket, once the channel is in a pipeline.
    func attach(_ socket: ChannelSocket?) {
        withState { state in
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
        withState { $0.coveredThrough = sequence }
    }

    /// Opens the lane if `mayOpen` and nothing waits here; closes it otherwise.
    /// Returns whether it is open.
    @discardableResult
    func update(mayOpen: Bool) -> Bool {
        withState { state in
            state.open = mayOpen && !state.released && state.socket != nil && state.mail.isEmpty && state.rest == nil
            return state.open
        }
    }

    /// Takes the broadcasts the publisher left, oldest first.
    func takeMail() -> [SharedMessage] {
        withState { state in
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
        withState { state in
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
        withState { state in
            defer { state.rest = nil }
            return state.rest
        }
    }

    /// Closes the lane for good and gives up the duplicated socket; the connection is going.
    func release() {
        withState { state in
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
