public import VoltCore

/// Decides when to ask a board (with `$SET`) to sample what the settings' `boards` entry
/// wants: once per `$HELLO` that says otherwise, and at most ``maxAttempts`` times per
/// connection, so a board that refuses (old firmware ignores `$SET`, a board answers `$ERR`)
/// is not asked forever. A reload that changes the wish asks again.
public struct SamplingRequest: Sendable {
    public static let maxAttempts = 3
    private var answered: Hello?
    private var wish: BoardSampling?
    private var attempts = 0

    public init() {}

    /// The `$SET` sentence to write now, if any.
    public mutating func command(hello: Hello?, wanted: BoardSampling?) -> String? {
        guard let hello, let wanted else { return nil }
        if wanted != wish {
            wish = wanted
            answered = nil
            attempts = 0
        }
        guard hello != answered, attempts < Self.maxAttempts else { return nil }
        answered = hello
        guard let command = wanted.command(toChange: hello) else { return nil }
        attempts += 1
        return command
    }
}
