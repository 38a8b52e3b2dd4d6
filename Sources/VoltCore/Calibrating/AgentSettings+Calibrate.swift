/// The settings file as `voltwatch calibrate` edits it: which entry a stream id names, and the
/// file with one entry replaced, checked by the rules the agent will load it with.
extension AgentSettings {
    /// Why `id` cannot name a stream (nil when it can): the rule the settings file's keys
    /// follow, for a stream id a person types on the command line.
    public static func streamIDProblem(_ id: String) -> String? {
        streamKeyProblem(id)
    }

    /// `id` spelled as results spell it (`dev/a1` is `dev/A1`). `id` must be valid.
    public static func canonicalStreamID(_ id: String) -> String {
        guard let slash = id.firstIndex(of: "/"), let channel = AnalogChannel(name: id[id.index(after: slash)...]) else { return id }
        return String(id[..<slash]) + "/" + channel.name
    }

    /// Whether two stream ids name one stream: a board's single signal is its A0, so `dev` and
    /// `dev/A0` are the same stream (as the settings file treats them).
    public static func namesSameStream(_ a: String, _ b: String) -> Bool {
        let a = canonicalStreamID(a), b = canonicalStreamID(b)
        return a == b || a + "/A0" == b || b + "/A0" == a
    }

    /// The key of the entry that applies to `stream`: `stream` itself, else its other
    /// spelling (`dev` for `dev/A0` and the other way round), else nil.
    public func key(forStream stream: String) -> String? {
        let stream = Self.canonicalStreamID(stream)
        if channels[stream] != nil { return stream }
        return channels.keys.sorted().first { Self.namesSameStream($0, stream) }
    }

    /// The entry that applies to `stream`, if the file has one.
    public func entry(forStream stream: String) -> ChannelSettings? {
        key(forStream: stream).flatMap { channels[$0] }
    }

    /// These settings with `update` applied to `stream`'s entry (made when there is none).
    /// The entry stays under the key the file already uses for the stream, so a hand-written
    /// `"dev"` is not duplicated as `"dev/A0"` (which the file would then refuse). Throws the
    /// problems the agent would report on loading the result (a name too long, min above
    /// max, ...), so nothing is written that the agent would refuse.
    public func updating(stream: String, with update: ChannelUpdate) throws(ConfigError) -> (settings: AgentSettings, key: String) {
        let key = key(forStream: stream) ?? Self.canonicalStreamID(stream)
        var next = self
        next.channels[key] = update.applied(to: channels[key] ?? ChannelSettings())
        // Validate as the agent will: the text written must load back to the same settings.
        let reloaded = try AgentSettings.parse(json: next.jsonText())
        return (reloaded, key)
    }
}
