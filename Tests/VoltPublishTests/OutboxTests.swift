#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import VoltPublish

/// The outbox on real SQLite files: rows come back in order until acknowledged, and rows left
/// in another place (the history store, or the file of a run without history) move over
/// without loss or reordering.
@Suite("Outbox")
struct OutboxTests {
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/voltwatch-outbox-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    static func item(_ body: String, target: String = "mqtt") -> (target: String, device: String, topic: String, body: String) {
        (target, "fake", "voltwatch/gw/fake/anomaly", body)
    }

    @Test func rowsComeBackInOrderUntilDeleted() throws {
        let outbox = try Outbox(path: Self.temporaryDirectory() + "/outbox.sqlite")
        try outbox.add([Self.item("a"), Self.item("b"), Self.item("c", target: "http://h/x")], nowMs: 1)
        let pending = try outbox.pending(target: "mqtt")
        #expect(pending.map(\.body) == ["a", "b"])
        try outbox.delete(seq: pending[0].seq)
        #expect(try outbox.pending(target: "mqtt").map(\.body) == ["b"])
        #expect(try outbox.dueWebhooks(nowMs: 2).map(\.body) == ["c"])
    }

    @Test func anOldOutboxFileMovesInAfterTheRowsAlreadyWaitingAndIsRemoved() throws {
        let dir = Self.temporaryDirectory()
        let old = try Outbox(path: dir + "/outbox.sqlite")
        try old.add([Self.item("old 1"), Self.item("old 2", target: "http://h/x")], nowMs: 1)
        try old.retryLater(seq: try old.pending(target: "http://h/x")[0].seq, attempts: 4, atMs: 99)
        let store = try Outbox(path: dir + "/history.sqlite")
        try store.add([Self.item("new 1")], nowMs: 2)
        #expect(try store.absorb(from: dir + "/outbox.sqlite", removingFile: true) == 2)
        #expect(try store.pending(target: "mqtt").map(\.body) == ["new 1", "old 1"])
        let hook = try #require(try store.pending(target: "http://h/x").first)
        #expect(hook.body == "old 2" && hook.attempts == 4 && hook.nextAttemptMs == 99)
        #expect(access(dir + "/outbox.sqlite", F_OK) != 0)
    }

    @Test func rowsLeftInTheHistoryStoreMoveOutAndTheStoreStays() throws {
        let dir = Self.temporaryDirectory()
        let store = try Outbox(path: dir + "/history.sqlite")
        try store.add([Self.item("waiting")], nowMs: 1)
        let file = try Outbox(path: dir + "/outbox.sqlite")
        #expect(try file.absorb(from: dir + "/history.sqlite", removingFile: false) == 1)
        #expect(try file.pending(target: "mqtt").map(\.body) == ["waiting"])
        #expect(try store.count() == 0 && access(dir + "/history.sqlite", F_OK) == 0)
        // Nothing moves twice.
        #expect(try file.absorb(from: dir + "/history.sqlite", removingFile: false) == 0)
    }

    @Test func aFileWithoutAnOutboxMovesNothing() throws {
        let dir = Self.temporaryDirectory()
        let other = try Outbox(path: dir + "/a.sqlite")
        _ = try other.trim(keeping: 0)
        let store = try Outbox(path: dir + "/b.sqlite")
        // An empty SQLite file (no tables at all) is read, not changed.
        let empty = dir + "/empty.sqlite"
        close(open(empty, O_CREAT | O_WRONLY, 0o600))
        #expect(try store.absorb(from: empty, removingFile: false) == 0)
        #expect(try store.absorb(from: dir + "/a.sqlite", removingFile: false) == 0)
    }
}
