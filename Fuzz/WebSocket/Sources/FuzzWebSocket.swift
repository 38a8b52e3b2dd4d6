// libFuzzer target: SwiftNIO's WebSocket frame decoder, as the agent's /ws and /socket.io/
// pipelines use it. Built by scripts/fuzz.sh from Fuzz/WebSocket/Package.swift.
import NIOCore
import NIOEmbedded
import NIOWebSocket

/// The input is the byte stream a client sends after the upgrade; the first byte picks the
/// size of the reads the socket delivers it in (1 to 256 bytes). Decoding errors are the
/// decoder's answer to a hostile client; a crash, a hang or a leak is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let chunk = Int(input[0]) + 1
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 16)))
    } catch {
        fatalError("cannot set up the pipeline: \(error)")
    }
    var start = 1
    var frames = 0
    reading: while start < input.count {
        let end = min(input.count, start + chunk)
        var buffer = channel.allocator.buffer(capacity: end - start)
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[start..<end]))
        start = end
        do {
            try channel.writeInbound(buffer)
        } catch {
            break reading
        }
        while let frame = try? channel.readInbound(as: WebSocketFrame.self) {
            frames += 1
            check(frame.length <= 1 << 16, "frame of \(frame.length) bytes passed a 64 KiB limit")
            _ = frame.unmaskedData
        }
    }
    _ = try? channel.finish()
    return frames >= 0 ? 0 : 1
}

/// `precondition` that prints its message in optimised builds too (libFuzzer keeps the input;
/// the message says which promise it broke).
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
