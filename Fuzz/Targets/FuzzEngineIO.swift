// libFuzzer target: the Engine.IO v4 / Socket.IO v5 packet decoder of /socket.io/.
// scripts/fuzz.sh compiles Sources/VoltServer/Protocol/SocketIOPacket.swift into this target
// (the server's module needs NIO and Hummingbird; this file needs nothing).

/// The input is one text frame a client sends. Checks "no crash" only: the decoder does not
/// promise that encoding a decoded packet and decoding it again gives it back (a payload that
/// follows an explicit default namespace and starts with `/`, as in `41/,/x`, comes back as a
/// namespace: Fuzz/Findings/engineio-default-namespace-roundtrip, docs/fuzzing.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIO(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let packet = try EngineIOPacket.parse(Substring(text))
        _ = packet.text
    } catch {
        _ = error.description
    }
    return 0
}
