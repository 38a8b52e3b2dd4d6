import Logging
import HummingbirdWSClient
import Synchronization
import VoltCore
import VoltSerial

/// Everything `voltwatch calibrate` waits for, in one stream: the agent's messages, the lines
/// the person types, and a clock tick. One loop consumes them, so the screen is written from
/// one place and a lost connection interrupts a prompt as well as a measurement.
enum CalibrateEvent: Sendable {
    case agent(AgentMessage)
    /// The connection to the agent failed or ended; why.
    case agentGone(String)
    case line(String)
    case endOfInput
    case tick
}

/// The sources of ``CalibrateEvent``s, started once per session.
final class CalibrateEvents: Sendable {
    let stream: AsyncStream<CalibrateEvent>
    private let continuation: AsyncStream<CalibrateEvent>.Continuation
    /// Lines read from standard input that the session has not handled yet: on a terminal the
    /// cursor has then already left the prompt, and the live line must not be rewritten.
    private let unhandledLines = Atomic<Int>(0)

    /// Largest message taken from the agent: `hello` carries the configuration and recent results.
    static let maxMessageBytes = 1 << 20

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: CalibrateEvent.self)
    }

    var inputPending: Bool { unhandledLines.load(ordering: .relaxed) > 0 }

    /// Call when a `.line` was taken from the stream.
    func lineHandled() {
        unhandledLines.subtract(1, ordering: .relaxed)
    }

    /// Reads standard input line by line on a thread of its own (a blocking read on the
    /// cooperative pool could stall the connection on a one- or two-core gateway).
    func readInput() {
        let continuation = continuation, pending = self
        Task {
            await BlockingThread.run(name: "calibrate-stdin") {
                while let line = readLine(strippingNewline: true) {
                    pending.unhandledLines.add(1, ordering: .relaxed)
                    continuation.yield(.line(line))
                }
                continuation.yield(.endOfInput)
            }
        }
    }

    /// A tick every quarter second: deadlines and "no reading for N s" need a clock.
    func tick() {
        let continuation = continuation
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                continuation.yield(.tick)
            }
        }
    }

    /// Connects to the agent's `/ws` at `url` and passes on its messages; `.agentGone` when
    /// the connection cannot be made or ends.
    func connect(url: String) {
        let continuation = continuation
        Task {
            // The client's own logging would land in the middle of the live line.
            let quiet = Logger(label: "voltwatch.calibrate", factory: { _ in SwiftLogNoOpLogHandler() })
            do {
                let close = try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: Self.maxMessageBytes), logger: quiet
                ) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: Self.maxMessageBytes) {
                        guard case .text(let text) = message, let parsed = AgentMessage.parse(text) else { continue }
                        continuation.yield(.agent(parsed))
                    }
                }
                let reason = close.flatMap(\.reason).map { ": \($0)" } ?? ""
                continuation.yield(.agentGone("the agent closed the connection" + reason))
            } catch {
                continuation.yield(.agentGone(Self.describe(error)))
            }
        }
    }

    /// An error of the connection in words a person acts on.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("refused") { return "connection refused (nothing listens there)" }
        if text.contains("upgrade") || text.contains("Upgrade") {
            return "it answered, but not as a WebSocket: is that address voltwatch's port?"
        }
        return text
    }
}
