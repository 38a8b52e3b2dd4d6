/// Why `voltwatch calibrate` ended without a calibration to write, with what to check and the
/// exit status (sysexits.h) that tells a script which it was.
enum CalibrateStop: Error {
    /// `q` at a prompt.
    case quit
    /// Standard input ended (Ctrl-D) at a prompt.
    case endOfInput
    /// The agent could not be reached, or did not answer in time.
    case unreachable(String)
    /// The agent refused the connection (its `error` event: a token, mostly).
    case refused(String)
    /// No result for the stream arrived; the streams the agent knows.
    case noReadings(seen: [String])
    /// The connection ended during the session.
    case agentGone(String)

    /// What went wrong, and what to check, for `agent` (as given) and `stream`.
    func explanation(agent: String, stream: String) -> String {
        switch self {
        case .quit:
            return "stopped (q)."
        case .endOfInput:
            return "stopped: the input ended."
        case .unreachable(let why):
            return "cannot reach the agent at \(agent): \(why). Is `voltwatch run` running (systemctl status voltwatch)? "
                + "Is --agent its address and port?"
        case .refused(let why):
            return "the agent at \(agent) refused the connection: \(why). Give its token with --token or --token-file "
                + "(or $\(ServerOptions.tokenEnvironmentVariable))."
        case .noReadings(let seen):
            let known = seen.isEmpty
                ? "It has no stream yet: is a board plugged in and read (`voltwatch doctor` says why not)?"
                : "It knows: \(seen.joined(separator: ", ")). Is the stream id right (<device> or <device>/<channel>, as results name it)?"
            return "no result for \(stream) arrived from the agent at \(agent) within \(CalibrateSession.startTimeout.components.seconds) s. "
                + known
        case .agentGone(let why):
            return "lost the connection to the agent at \(agent): \(why)."
        }
    }

    var exitStatus: Int32 {
        switch self {
        case .quit, .endOfInput: 1
        case .unreachable, .noReadings, .agentGone: ExitStatus.unavailable
        case .refused: ExitStatus.noPermission
        }
    }
}

extension Error {
    /// A ``CalibrateStop``'s explanation, or the error's own words.
    func explanation(agent: String, stream: String) -> String {
        (self as? CalibrateStop)?.explanation(agent: agent, stream: stream) ?? "\(self)"
    }
}
