import Hummingbird
import NIOCore

/// An upload's body, read chunk by chunk by one replay at a time, first in the route and then
/// in the streamed answer; refuses a body over `maxBytes` while it arrives.
///
/// Hummingbird's body can be iterated once, so the route and the answer share one iterator.
/// They run one after the other, never at once, which is why the unchecked `Sendable` holds.
final class UploadBody: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator
    private let maxBytes: Int
    private var received = 0

    init(_ body: RequestBody, maxBytes: Int) {
        iterator = body.makeAsyncIterator()
        self.maxBytes = maxBytes
    }

    /// The next chunk, nil at the end.
    func next() async throws -> ByteBuffer? {
        guard let chunk = try await iterator.next() else { return nil }
        received += chunk.readableBytes
        guard received <= maxBytes else {
            throw HTTPError(.contentTooLarge, message: Self.tooLargeMessage(maxBytes))
        }
        return chunk
    }

    static func tooLargeMessage(_ maxBytes: Int) -> String {
        "upload larger than \(maxBytes) bytes: split the file or raise --max-replay-upload"
    }
}
