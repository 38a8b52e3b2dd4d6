import Synchronization

/// What the hub reads about a client from any thread.
final class ClientTally: Sendable {
    /// Messages dropped over the client's life.
    let dropped = Atomic<Int>(0)
    init() {}
}
