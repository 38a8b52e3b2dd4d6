import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import VoltServer

/// The publisher's own way into a client's socket, over real loopback TCP connections: it
/// writes only while the loop keeps the lane open, leaves everything else to the loop, and
/// the bytes on the wire stay whole frames in order whoever writes them.
@Suite struct ExpressLaneTests {
    typealias Link = FrameWriterTests.Link

    /// A broadcast whose frame carries `number` (`{"event":"t","data":{"n":NUMBER,...}}`),
    /// padded to about `padding` bytes so a few fill a socket.
    static func broadcast(_ number: Int, sequence: UInt64? = nil, padding: Int = 0) -> SharedMessage {
        let pad = String(repeating: "x", count: padding)
        return SharedMessage(event: "t", dataJSON: "{\"n\":\(number),\"p\":\"\(pad)\"}",
                             sequence: sequence ?? UInt64(number))
    }

    /// The payloads of the unmasked server frames in `bytes`, and whether they ended on a frame
    /// boundary.
    static func frames(in bytes: [UInt8]) -> (payloads: [String], whole: Bool) {
        var payloads: [String] = []
        var at = 0
        while at + 2 <= bytes.count {
            var length = Int(bytes[at + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard at + 4 <= bytes.count else { break }
                length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
                header = 4
            } else if length == 127 {
                guard at + 10 <= bytes.count else { break }
                length = bytes[at + 2..<at + 10].reduce(0) { $0 << 8 | Int($1) }
                header = 10
            }
            guard at + header + length <= bytes.count else { break }
            payloads.append(String(decoding: bytes[at + header..<at + header + length], as: UTF8.self))
            at += header + length
        }
        return (payloads, at == bytes.count)
    }

    /// The `n` of each broadcast payload, and the other payloads, in arrival order.
    static func numbers(_ payloads: [String], prefix: String = "{\"event\":\"t\",\"data\":{\"n\":") -> [Int] {
        payloads.compactMap { payload in
            guard payload.hasPrefix(prefix) else { return nil }
            return Int(payload.dropFirst(prefix.count).prefix { $0.isNumber })
        }
    }

    /// Opens a link and primes its writer (the first frame goes through NIO).
    static func primedLink(group: any EventLoopGroup, clientReads: Bool = true) async throws -> Link {
        let link = try await Link.open(group: group, clientReads: clientReads)
        try await link.onLoop { $0.writeAndFlush(ServerFrame.text("hello")) }
        try await eventually { try await link.onLoop { $0.isDirect } }
        return link
    }

    /// Runs `body` with a fresh link on its own event loop (primed unless `primed` is false),
    /// and closes both afterwards, also when `body` throws.
    static func withLink(primed: Bool = true, clientReads: Bool = true,
                         _ body: (Link) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let link = primed ? try await primedLink(group: group, clientReads: clientReads)
                              : try await Link.open(group: group, clientReads: clientReads)
            do {
                try await body(link)
            } catch {
                await link.close()
                throw error
            }
            await link.close()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    /// Says broadcasts flow on `link`'s connection and returns its lane (open once primed).
    static func flowingLane(_ link: Link) async throws -> ExpressLane {
        try await link.onLoop { writer -> ExpressLane in
            writer.broadcastsFlow = true
            return writer.lane
        }
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(seconds: Int = 10, _ condition: () async throws -> Bool) async rethrows {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while try await !condition(), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// What the connection does with leftovers (``ClientConnection/deliverLeftovers(nowMs:)``),
    /// without its outbox: the rest first, then the mail, then the lane may open again.
    static func deliverLeftovers(_ writer: FrameWriter) {
        writer.writePublishersRest()
        for message in writer.lane.takeMail() {
            writer.writeAndFlush(message.frame(for: .webSocket))
        }
        writer.updateLane()
    }

    @Test func aClosedLaneLeavesBroadcastsForTheLoopAndAnOpenOneSendsThem() async throws {
        try await Self.withLink { link in
            let lane = try await link.onLoop { $0.lane }
            #expect(lane.hasSocket)
            #expect(!lane.isOpen)  // the connection has not said broadcasts flow
            #expect(lane.offer(Self.broadcast(1)) == .leftForLoop)
            #expect(lane.takeMail().map(\.sequence) == [1])

            try await link.onLoop { $0.broadcastsFlow = true }
            #expect(lane.isOpen)
            #expect(lane.offer(Self.broadcast(2)) == .sent)
            #expect(lane.offer(Self.broadcast(3)) == .sent)
            let expected = [ServerFrame.text("hello"), Self.broadcast(2).webSocketFrame, Self.broadcast(3).webSocketFrame]
                .flatMap { Array($0.readableBytesView) }
            try await link.waitForBytes(expected.count)
            #expect(link.received.withLockedValue { $0 } == expected)

            // The connection stops the flow (its socket filled, it is closing): the lane closes.
            try await link.onLoop { $0.broadcastsFlow = false }
            #expect(!lane.isOpen)
            #expect(lane.offer(Self.broadcast(4)) == .leftForLoop)
        }
    }

    @Test func broadcastsTheHelloCoveredAreSkipped() async throws {
        try await Self.withLink { link in
            let lane = try await link.onLoop { $0.lane }
            lane.setCoveredThrough(5)
            try await link.onLoop { $0.broadcastsFlow = true }
            #expect(lane.offer(Self.broadcast(5)) == .skipped)
            #expect(lane.offer(Self.broadcast(6)) == .sent)
        }
    }

    @Test func theLaneStaysClosedUntilNIOHasWrittenTheHandshakeAndItsBacklog() async throws {
        try await Self.withLink(primed: false) { link in
            let lane = try await Self.flowingLane(link)
            #expect(!lane.isOpen)  // nothing of ours written through NIO yet
            try await link.onLoop { $0.writeAndFlush(ServerFrame.text("hello")) }
            await Self.eventually { lane.isOpen }
            #expect(lane.isOpen)
        }
    }

    @Test func aFrameTheKernelTakesInPartIsFinishedByTheLoopBeforeAnythingElse() async throws {
        try await Self.withLink(clientReads: false) { link in
            let lane = try await Self.flowingLane(link)
            #expect(lane.isOpen)
            // The client reads nothing: the publisher fills the socket until a frame goes in part.
            var number = 0
            var sent = 0
            while number < 10_000 {
                number += 1
                if lane.offer(Self.broadcast(number, padding: 900)) == .leftForLoop { break }
                sent += 1
            }
            #expect(sent > 0)
            #expect(!lane.isOpen)
            // Later broadcasts wait in the mail; the loop's own frame waits behind the rest.
            for _ in 0..<5 {
                number += 1
                #expect(lane.offer(Self.broadcast(number, padding: 900)) == .leftForLoop)
            }
            try await link.onLoop { writer in
                writer.writeAndFlush(ServerFrame.text("own"))
                Self.deliverLeftovers(writer)
            }
            link.client.read()
            try await link.client.setOption(.autoRead, value: true).get()
            var parsed = Self.frames(in: [])
            await Self.eventually {
                parsed = Self.frames(in: link.received.withLockedValue { $0 })
                return parsed.whole && parsed.payloads.count == number + 2  // hello, own, 1...number
            }
            let whole = parsed.whole
            #expect(whole, "the stream ended inside a frame")
            #expect(parsed.payloads.first == "hello")
            #expect(Self.numbers(parsed.payloads) == Array(1...number))
            // The loop's frame came right after the broadcast the publisher began.
            let ownIndex = parsed.payloads.firstIndex(of: "own")
            let own = try #require(ownIndex, "the loop's frame was lost or mangled")
            #expect(Self.numbers(Array(parsed.payloads[..<own])) == Array(1...(sent + 1)))
            // With NIO's backlog written, the lane opens again.
            await Self.eventually { lane.isOpen }
            #expect(lane.isOpen)
        }
    }

    @Test(.timeLimit(.minutes(1))) func publisherAndLoopWritingAtOnceNeverInterleaveFrames() async throws {
        try await Self.withLink { link in
            let lane = try await Self.flowingLane(link)
            let count = 1_000
            // The loop writes its own frames (as it answers pings and requests) while a publisher
            // thread writes broadcasts; the small socket buffers make some sends partial.
            let loopFrames = Task {
                for batch in stride(from: 0, to: count, by: 10) {
                    try await link.onLoop { writer in
                        for index in batch..<batch + 10 {
                            writer.writeAndFlush(ServerFrame.text("own \(index) " + String(repeating: "o", count: 1_000)))
                        }
                    }
                }
            }
            var leftForLoop = 0
            for number in 1...count {
                if lane.offer(Self.broadcast(number, padding: 300)) == .leftForLoop {
                    leftForLoop += 1
                    try await link.onLoop { Self.deliverLeftovers($0) }
                }
            }
            try await loopFrames.value
            #expect(leftForLoop > 0, "the socket never filled: the test did not exercise a partial send")
            var parsed = Self.frames(in: [])
            await Self.eventually(seconds: 20) {
                parsed = Self.frames(in: link.received.withLockedValue { $0 })
                return parsed.whole && parsed.payloads.count == 1 + 2 * count
            }
            let whole = parsed.whole, received = parsed.payloads.count
            #expect(whole, "the stream ended inside a frame")
            #expect(received == 1 + 2 * count)
            #expect(Self.numbers(parsed.payloads) == Array(1...count))
            let own = parsed.payloads.filter { $0.hasPrefix("own ") }.map { Int($0.split(separator: " ")[1])! }
            #expect(own == Array(0..<count))
        }
    }

    @Test func aReleasedLaneTakesNothing() async throws {
        try await Self.withLink { link in
            let lane = try await link.onLoop { writer -> ExpressLane in
                writer.broadcastsFlow = true
                writer.release()
                return writer.lane
            }
            #expect(!lane.isOpen)
            #expect(!lane.hasSocket)
            #expect(lane.offer(Self.broadcast(1)) == .skipped)
            #expect(lane.takeMail().isEmpty)
        }
    }
}
