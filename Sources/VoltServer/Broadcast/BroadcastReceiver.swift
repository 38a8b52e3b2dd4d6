/// A connected client as the hub sees it: something on an event loop that takes broadcasts.
///
/// The hub knows clients only through this interface, so the broadcast side does not depend
/// on how a connection speaks WebSocket or Socket.IO (``ClientConnection`` implements it).
protocol BroadcastReceiver: AnyObject {
    /// Offers one broadcast, on the receiver's event loop. Returns true when it was written to
    /// the socket now (for the sent-messages counter), false when it was queued, dropped by the
    /// slow-client rules, or already covered by the client's `hello`.
    func receive(_ broadcast: Broadcast, nowMs: Int64) -> Bool
}
