#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
public import VoltCore

/// Hands every event to several sinks (the server's hub, `--print`).
public struct EventFanout: AgentEventSink {
    public let sinks: [any AgentEventSink]
    public init(_ sinks: [any AgentEventSink]) { self.sinks = sinks }
    public func publish(_ event: AgentEvent) {
        for sink in sinks { sink.publish(event) }
    }
}

/// `run --print`: every result as one JSON line on standard output, in the exact encoding
/// `voltwatch replay` writes, so the two outputs can be compared byte for byte.
public final class PrintSink: AgentEventSink {
    private let fd: Int32
    private let lock = Mutex(())

    public init(fd: Int32 = 1) { self.fd = fd }

    public func publish(_ event: AgentEvent) {
        guard case .result(let device, let result) = event else { return }
        var line = ResultEncoder.jsonLine(result, device: device)
        lock.withLock { _ in
            _ = line.withUTF8 { Posix.writeAll(fd, UnsafeRawBufferPointer($0)) }
        }
    }
}
