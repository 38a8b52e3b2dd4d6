#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import VoltServer

/// One broadcast to many sockets in one call: each socket gets its bytes, and each send reports
/// what `send(2)` would (all, part, or -EAGAIN for a full socket), through io_uring where this
/// kernel offers it and through plain sends where it does not.
@Suite(.serialized) struct SendBatchTests {
    /// A connected pair of stream sockets; `sender` is non-blocking with a small send buffer.
    struct Pair {
        let sender: Int32
        let receiver: Int32

        static func make() throws -> Pair {
            var fds: [Int32] = [0, 0]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            var size: Int32 = 4096
            setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            return Pair(sender: fds[0], receiver: fds[1])
        }

        /// Everything waiting on the receiving side.
        func drain() -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(receiver, &buffer, buffer.count)
                guard count > 0 else { return out }
                out += buffer[0..<count]
            }
        }

        /// Fills the send side until the kernel takes nothing more.
        func fill() {
            let chunk = [UInt8](repeating: 0x55, count: 4096)
            while chunk.withUnsafeBytes({ send(sender, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
        }

        func close() {
            Glibc.close(sender)
            Glibc.close(receiver)
        }
    }

    /// Sends `payloads[i]` to `pairs[i].sender` for every pair in one batch.
    static func batch(_ pairs: [Pair], _ payloads: [[UInt8]]) -> [Int] {
        var pointers: [UnsafeMutableRawPointer] = []
        defer { pointers.forEach { $0.deallocate() } }
        for payload in payloads {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(payload.count, 1), alignment: 1)
            pointer.copyMemory(from: payload, byteCount: payload.count)
            pointers.append(pointer)
        }
        return SendBatch.send(pairs.map(\.sender), buffers: pointers.map { UnsafeRawPointer($0) },
                              lengths: payloads.map { UInt32($0.count) })
    }

    /// Runs `body` with io_uring allowed (`ring: true`, where the kernel offers it) or not.
    static func with(ring: Bool, _ body: () throws -> Void) rethrows {
        SendBatch.setRing(enabled: ring)
        defer { SendBatch.setRing(enabled: true) }
        try body()
    }

    @Test(arguments: [true, false])
    func everySocketGetsItsOwnBytes(ring: Bool) throws {
        try Self.with(ring: ring) {
            let pairs = try (0..<40).map { _ in try Pair.make() }
            defer { pairs.forEach { $0.close() } }
            let payloads = pairs.indices.map { Array("frame for socket \($0)".utf8) }
            let results = Self.batch(pairs, payloads)
            #expect(results == payloads.map(\.count))
            for (pair, payload) in zip(pairs, payloads) {
                #expect(pair.drain() == payload)
            }
        }
    }

    @Test(arguments: [true, false])
    func aFullSocketTakesNothingOrPartAndTheOthersStillGetTheirs(ring: Bool) throws {
        try Self.with(ring: ring) {
            let pairs = try (0..<8).map { _ in try Pair.make() }
            defer { pairs.forEach { $0.close() } }
            pairs[3].fill()
            let payloads = pairs.indices.map { _ in [UInt8](repeating: 0x41, count: 3000) }
            let results = Self.batch(pairs, payloads)
            for index in pairs.indices where index != 3 {
                #expect(results[index] == 3000, "socket \(index)")
            }
            // The full one: -EAGAIN, or the few bytes the kernel still had room for. Never a wait.
            #expect(results[3] == -Int(EAGAIN) || (0..<3000).contains(results[3]))
        }
    }

    @Test(arguments: [true, false])
    func aClosedPeerIsAnErrorNotASignal(ring: Bool) throws {
        try Self.with(ring: ring) {
            let pairs = try (0..<4).map { _ in try Pair.make() }
            defer { pairs.forEach { $0.close() } }
            shutdown(pairs[1].receiver, Int32(SHUT_RD))
            let results = Self.batch(pairs, pairs.map { _ in Array("x".utf8) })
            #expect(results[1] == -Int(EPIPE))  // MSG_NOSIGNAL: no SIGPIPE killed the test
            #expect(results[0] == 1 && results[2] == 1 && results[3] == 1)
        }
    }
}
