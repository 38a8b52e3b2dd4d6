/// `# HELP` for every metric family `/metrics` exposes. swift-prometheus writes HELP only for
/// metrics made on its registry with a help text, and the swift-metrics factory the agent
/// records through passes none, so the route inserts these before each family's `# TYPE`.
enum MetricHelp {
    static let texts: [String: String] = [
        "voltwatch_results_total": "Samples scored, per device stream.",
        "voltwatch_anomalies_total": "Samples scored as anomalies, per device stream.",
        "voltwatch_anomalies_by_kind_total": "Anomalous samples by the detector that fired (a sample can count for several kinds).",
        "voltwatch_frames_total": "Lines accepted as samples, per device.",
        "voltwatch_invalid_lines_total": "Lines refused, per device and reason (checksum, syntax, too_long, out_of_range).",
        "voltwatch_lost_frames_total": "Frames missing according to seq jumps, per device.",
        "voltwatch_app_results_total": "voltage_data samples from apps, scored by their own scorers.",
        "voltwatch_app_anomalies_total": "voltage_data samples from apps scored as anomalies.",
        "voltwatch_clients": "WebSocket and Socket.IO clients connected now, by transport.",
        "voltwatch_client_messages_sent_total": "Messages written to clients.",
        "voltwatch_client_messages_dropped_total": "Messages dropped from slow clients' bounded queues (the client is told how many it missed).",
        "voltwatch_clients_disconnected_slow_total": "Clients cut off for staying too slow past the grace period.",
        "voltwatch_scorer_duration_seconds": "Time to parse and score one sample (one sample in N is timed).",
        "voltwatch_history_ok": "1 while the history store is being written, 0 while it fails (see /api/status history.error).",
        "voltwatch_history_pending_rows": "Aggregate rows waiting in memory for the history store.",
        "voltwatch_history_writes_total": "Flushes written to the history store.",
        "voltwatch_history_write_failures_total": "Flushes the history store refused (read-only, full, damaged, locked); retried every second.",
        "voltwatch_history_dropped_rows_total": "Per-second rows dropped because the store stayed unwritable too long.",
    ]

    /// The exposition text with a `# HELP` line before each family's `# TYPE` line.
    static func annotate(_ text: [UInt8]) -> [UInt8] {
        let typePrefix = Array("# TYPE ".utf8)
        var lines: [[UInt8]] = []
        for line in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.starts(with: typePrefix) {
                let name = String(decoding: line.dropFirst(typePrefix.count).prefix { $0 != 0x20 }, as: UTF8.self)
                lines.append(Array("# HELP \(name) \(texts[name] ?? "voltwatch metric \(name).")".utf8))
            }
            lines.append(Array(line))
        }
        return Array(lines.joined(separator: [0x0A]))
    }
}
