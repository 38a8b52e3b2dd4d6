import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import VoltServer

/// The direct write path, over real loopback TCP connections: the writer finds the socket
/// behind a NIO channel, sends to it without NIO while nothing waits there, and keeps the byte
/// order when the kernel takes only part of a frame.
@Suite struct FrameWriterTests {
    /// A served connection: the server side's channel (with a ``FrameWriter`` at the head of its
    /// pipeline) and the client side, which collects what it receives.
    final class Link: Sendable {
        let server: any Channel
        let client: any Channel
        let writer: NIOLoopBound<FrameWriter>
        let received: NIOLockedValueBox<[UInt8]>
        private let listener: any Channel

        static func open(group: any EventLoopGroup, clientReads: Bool = true) async throws -> Link {
            let accepted = group.next().makePromise(of: (any Channel).self)
            let listener = try await ServerBootstrap(group: group)
                .childChannelOption(.socketOption(.so_sndbuf), value: 4096)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(FrameWriter())
                        accepted.succeed(channel)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let received = NIOLockedValueBox<[UInt8]>([])
            let client = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                .channelOption(.autoRead, value: clientReads)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Collector(received))
                    }
                }
                .connect(to: listener.localAddress!).get()
            let server = try await accepted.futureResult.get()
            let writer = try await server.eventLoop.submit {
                NIOLoopBound(try server.pipeline.syncOperations.handler(type: FrameWriter.self), eventLoop: server.eventLoop)
            }.get()
            return Link(server: server, client: client, writer: writer, received: received, listener: listener)
        }

        private init(server: any Channel, client: any Channel, writer: NIOLoopBound<FrameWriter>,
                     received: NIOLockedValueBox<[UInt8]>, listener: any Channel) {
            self.server = server
            self.client = client
            self.writer = writer
            self.received = received
            self.listener = listener
        }

        /// Runs `body` with the writer on the server's event loop.
        func onLoop<T: Sendable>(_ body: @escaping @Sendable (FrameWriter) -> T) async throws -> T {
            try await server.eventLoop.submit { [writer] in body(writer.value) }.get()
        }

        func waitForBytes(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while received.withLockedValue({ $0.count }) < count {
                guard ContinuousClock.now < deadline else { return }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        func close() async {
            try? await client.close()
            try? await server.close()
            try? await listener.close()
        }
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        init(_ received: NIOLockedValueBox<[UInt8]>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            received.withLockedValue { $0 += bytes }
        }
    }

    /// Frame `index` of a stream: its number in its first four bytes, then filler.
    static func frame(_ index: Int, size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(index))
        buffer.writeRepeatingByte(UInt8(truncatingIfNeeded: index), count: size - 4)
        return buffer
    }

    static func expectInOrder(_ bytes: [UInt8], frames: Int, size: Int) {
        #expect(bytes.count == frames * size)
        for index in 0..<min(frames, bytes.count / size) {
            let start = index * size
            let number = bytes[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
            #expect(number == index, "frame \(index) arrived as \(number)")
            #expect(bytes[start + 4..<start + size].allSatisfy { $0 == UInt8(truncatingIfNeeded: index) })
        }
    }

    @Test func findsTheSocketBehindAChannelByItsAddresses() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let link = try await Link.open(group: group)
        let socket = try #require(ChannelSocket.duplicate(local: link.server.localAddress, remote: link.server.remoteAddress))
        #expect(socket.send(Self.frame(7, size: 64)) == .sent)
        try await link.waitForBytes(64)
        #expect(link.received.withLockedValue { $0 } == Array(Self.frame(7, size: 64).readableBytesView))
        socket.close()
        // A pair no socket of this process has.
        let nobody = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        #expect(ChannelSocket.duplicate(local: link.server.localAddress, remote: nobody) == nil)
        #expect(ChannelSocket.duplicate(local: nil, remote: link.server.remoteAddress) == nil)
        await link.close()
        try await group.shutdownGracefully()
    }

    @Test func aFullScanReachesEveryOpenDescriptorButStopsAtTheTableNotTheLimit() throws {
        // A descriptor numbered 3,000 (or near the soft limit, if that is lower): the table
        // grows to hold it, and the scan must reach it.
        let wanted = Int32(min(3_000, sysconf(Int32(_SC_OPEN_MAX)) - 64))
        let high = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, wanted)
        try #require(high >= wanted)
        defer { close(high) }
        let size = try #require(ChannelSocket.descriptorTableSize())
        #expect(size > high)
        // The kernel sizes the table in powers of two as numbers are used (4,096 here), far
        // below a container's million-descriptor limit, which a scan must not walk.
        #expect(size <= 8_192)
    }

    @Test func firstFrameGoesThroughNIOThenFramesGoDirect() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let link = try await Link.open(group: group)
        #expect(try await link.onLoop { $0.isDirect } == false)  // the handshake's 101 may still be with NIO
        try await link.onLoop { $0.writeAndFlush(Self.frame(0, size: 100)) }
        try await link.waitForBytes(100)
        #expect(try await link.onLoop { $0.isDirect })
        for index in 1..<50 {
            try await link.onLoop { $0.writeAndFlush(Self.frame(index, size: 100)) }
        }
        try await link.waitForBytes(5_000)
        Self.expectInOrder(link.received.withLockedValue { $0 }, frames: 50, size: 100)
        await link.close()
        try await group.shutdownGracefully()
    }

    @Test func aFullSocketHandsTheRestToNIOAndOrderIsKept() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let link = try await Link.open(group: group, clientReads: false)
        try await link.onLoop { $0.writeAndFlush(Self.frame(0, size: 1_000)) }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !link.onLoop({ $0.isDirect }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        // The client reads nothing: its receive buffer and the server's send buffer fill, the
        // kernel takes part of a frame, and everything after waits in NIO.
        let frames = 2_000
        let wentToNIO = try await link.onLoop { writer -> Bool in
            var sawBacklog = false
            for index in 1..<frames {
                writer.writeAndFlush(Self.frame(index, size: 1_000))
                if !writer.isDirect { sawBacklog = true }
            }
            return sawBacklog
        }
        #expect(wentToNIO)
        link.client.read()
        try await link.client.setOption(.autoRead, value: true).get()
        try await link.waitForBytes(frames * 1_000)
        Self.expectInOrder(link.received.withLockedValue { $0 }, frames: frames, size: 1_000)
        // Once NIO has written its backlog, frames go direct again.
        #expect(try await link.onLoop { $0.isDirect })
        await link.close()
        try await group.shutdownGracefully()
    }

    @Test(.timeLimit(.minutes(1))) func theConnectionClosesWhenNIOClosesAndTheWriterLetsGo() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let link = try await Link.open(group: group)
        try await link.onLoop { $0.writeAndFlush(Self.frame(0, size: 10)) }
        try await link.waitForBytes(10)
        #expect(try await link.onLoop { $0.isDirect })
        // Closing the channel removes the writer, which releases its duplicate: the client sees
        // the end of the stream (a kept duplicate would hold the connection open).
        try await link.server.close()
        try await link.client.closeFuture.get()
        #expect(try await link.onLoop { $0.isDirect } == false)
        await link.close()
        try await group.shutdownGracefully()
    }
}
