/// The `#` event lines of the agent's recordings that replay must understand: the recorder
/// writes them, ``TraceReplayer`` reads them, and both use these texts.
/// A line is `# <epoch_ms> <text>`.
public enum RecordingEvent {
    /// First line of every recording file: `voltwatch recording device=<id>`.
    public static let header = "voltwatch recording"
    /// The partial first line after a port opened, dropped and counted as invalid (syntax)
    /// live: `dropped partial first line (<n> bytes)`.
    public static let droppedPartialLine = "dropped partial first line"
    /// The device's entries of the settings file in effect, after the header and after every
    /// reload that changed them: `settings {"channels":{...}}`. Replay applies them, so a
    /// replayed day shows the names, units and calibrated values seen live.
    public static let settings = "settings"
}
