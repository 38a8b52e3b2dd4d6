#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import VoltCore
@testable import VoltSerial

@Suite struct NotifyMessageTests {
    @Test func fieldsAreNewlineSeparatedAssignments() {
        let message = NotifyMessage([.ready, .status("connected to /dev/ttyACM0, 10.0 frames/s, 3 clients")])
        #expect(message.description == "READY=1\nSTATUS=connected to /dev/ttyACM0, 10.0 frames/s, 3 clients")
    }

    @Test func reloadCarriesTheMonotonicTime() {
        let message = NotifyMessage([.reloading, .monotonicNow(microseconds: 123_456_789)])
        #expect(message.description == "RELOADING=1\nMONOTONIC_USEC=123456789")
    }

    @Test func everyFieldHasItsSystemdName() {
        #expect(NotifyMessage([.stopping]).description == "STOPPING=1")
        #expect(NotifyMessage([.watchdog]).description == "WATCHDOG=1")
        #expect(NotifyMessage([.mainPID(42)]).description == "MAINPID=42")
    }

    @Test func aStatusCannotSmuggleAnotherAssignment() {
        let message = NotifyMessage([.status("bad\nREADY=1\r")])
        #expect(message.description == "STATUS=bad READY=1 ")
    }
}

@Suite struct NotifySocketAddressTests {
    @Test func unsetOrEmptyMeansNotUnderSystemd() throws {
        #expect(try NotifySocketAddress.parse(nil) == nil)
        #expect(try NotifySocketAddress.parse("") == nil)
    }

    @Test func aPathIsUsedAsIs() throws {
        let address = try #require(try NotifySocketAddress.parse("/run/systemd/notify"))
        #expect(!address.isAbstract)
        #expect(address.pathBytes == Array("/run/systemd/notify".utf8))
    }

    @Test func anAbstractNameStartsWithNul() throws {
        let address = try #require(try NotifySocketAddress.parse("@/org/freedesktop/systemd1/notify/42"))
        #expect(address.isAbstract)
        #expect(address.pathBytes == [0] + Array("/org/freedesktop/systemd1/notify/42".utf8))
    }

    @Test(arguments: ["relative/path", "vsock:2:1234"])
    func otherFormsAreRefusedWithTheValue(value: String) {
        #expect(throws: NotifySocketError.self) { try NotifySocketAddress.parse(value) }
        do {
            _ = try NotifySocketAddress.parse(value)
        } catch {
            #expect(error.description.contains(value))
        }
    }

    @Test func tooLongForSunPathIsRefused() {
        #expect(throws: NotifySocketError.self) { try NotifySocketAddress.parse("/" + String(repeating: "a", count: 107)) }
        #expect(throws: Never.self) { try NotifySocketAddress.parse("/" + String(repeating: "a", count: 106)) }
        #expect(throws: Never.self) { try NotifySocketAddress.parse("@" + String(repeating: "a", count: 107)) }
    }

    /// The real socket path: a datagram sent through ``NotifySocket`` arrives whole, on a
    /// filesystem socket and on an abstract one.
    @Test(arguments: [false, true])
    func aMessageArrivesAsOneDatagram(abstract: Bool) throws {
        let name = abstract ? "@voltwatch-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                            : "/tmp/voltwatch-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try DatagramReceiver(name)
        defer { receiver.close() }
        let socket = try NotifySocket(address: try #require(try NotifySocketAddress.parse(name)))
        #expect(socket.send(NotifyMessage([.ready, .status("hello")])) == nil)
        #expect(receiver.receive() == "READY=1\nSTATUS=hello")
    }

    @Test func aMissingSocketIsReportedNotFatal() throws {
        let socket = try NotifySocket(address: try #require(try NotifySocketAddress.parse("/tmp/voltwatch-no-such-socket-\(getpid())")))
        let failure = socket.send(NotifyMessage([.ready]))
        #expect(failure?.contains("voltwatch-no-such-socket") == true)
    }
}

@Suite struct WatchdogScheduleTests {
    @Test func pingsAtHalfTheTimeout() throws {
        let schedule = try #require(WatchdogSchedule.parse(usec: "30000000", pid: nil, ownPID: 7))
        #expect(schedule.pingIntervalMs == 15_000)
        #expect(schedule.staleAfterMs == 15_000)
    }

    @Test func offWhenUnsetZeroGarbageOrForAnotherProcess() {
        #expect(WatchdogSchedule.parse(usec: nil, pid: nil, ownPID: 7) == nil)
        #expect(WatchdogSchedule.parse(usec: "0", pid: nil, ownPID: 7) == nil)
        #expect(WatchdogSchedule.parse(usec: "ten", pid: nil, ownPID: 7) == nil)
        #expect(WatchdogSchedule.parse(usec: "1000000", pid: "8", ownPID: 7) == nil)
        #expect(WatchdogSchedule.parse(usec: "1000000", pid: "7", ownPID: 7) != nil)
    }

    @Test func aShortTimeoutStillLeavesTheLoopsThreeTicks() throws {
        let schedule = try #require(WatchdogSchedule.parse(usec: "1000000", pid: nil, ownPID: 7))
        #expect(schedule.pingIntervalMs == 500)
        #expect(schedule.staleAfterMs == 3 * Int64(LoopHeartbeats.tickMs))
    }
}

@Suite struct LoopHeartbeatsTests {
    @Test func aLoopThatStopsReportingIsStaleTheOthersAreNot() {
        let heartbeats = LoopHeartbeats()
        let reader = heartbeats.register("serial reader fake", nowMs: 0)
        let monitor = heartbeats.register("udev monitor", nowMs: 0)
        reader.beat(nowMs: 900)
        monitor.beat(nowMs: 4_000)
        let stale = heartbeats.stale(nowMs: 5_000, staleAfterMs: 3_000)
        #expect(stale.map(\.name) == ["serial reader fake"])
        #expect(stale.first?.silentMs == 4_100)
        #expect(heartbeats.stale(nowMs: 3_500, staleAfterMs: 3_000).isEmpty)
    }

    @Test func anUnregisteredLoopNoLongerCounts() {
        let heartbeats = LoopHeartbeats()
        let reader = heartbeats.register("serial reader fake", nowMs: 0)
        heartbeats.unregister(reader)
        #expect(heartbeats.count == 0)
        #expect(heartbeats.stale(nowMs: 100_000, staleAfterMs: 1).isEmpty)
    }
}
