import VoltCore

/// What replaying one file found; summed over files for the closing summary.
struct ReplayReport: Sendable {
    var files = 0
    var samples = 0
    var anomalies = 0
    /// Anomalous samples per kind, in ``AnomalyKind/allCases`` order.
    var byKind = [Int](repeating: 0, count: AnomalyKind.allCases.count)
    var invalid = RejectionCounts()
    var lost = 0
    var labels: LabelTally?
    /// `file: line N: message`, the first few per file.
    var errors: [String] = []
    var errorCount = 0
    /// `file: reason` for a file that gave nothing to score as a whole (empty, or every line
    /// refused); like line errors, they make the exit status 65.
    var unusable: [String] = []
    var unreadable = 0
    var writeFailures: [String] = []

    mutating func count(_ result: ScoredResult) {
        samples += 1
        guard result.isAnomaly else { return }
        anomalies += 1
        for (i, kind) in AnomalyKind.allCases.enumerated() where result.kinds.contains(kind) { byKind[i] += 1 }
    }

    mutating func add(_ other: ReplayReport) {
        files += other.files
        samples += other.samples
        anomalies += other.anomalies
        for i in byKind.indices { byKind[i] += other.byKind[i] }
        invalid.add(other.invalid)
        lost += other.lost
        if let theirs = other.labels {
            var mine = labels ?? LabelTally()
            mine.add(theirs)
            labels = mine
        }
        errors += other.errors
        errorCount += other.errorCount
        unusable += other.unusable
        unreadable += other.unreadable
        writeFailures += other.writeFailures
    }

    /// The human summary printed on standard error at the end.
    func text(seconds: Double) -> String {
        let rate = seconds > 0 ? Double(samples) / seconds : 0
        var lines = [
            "replay: \(files) file\(files == 1 ? "" : "s"), \(samples) samples in \(FixedPoint.format(seconds, digits: 3)) s"
                + " (\(FixedPoint.format(rate / 1e6, digits: 2)) M samples/s)"
        ]
        let kinds = AnomalyKind.allCases.enumerated().filter { byKind[$0.offset] > 0 }
            .map { "\($0.element.rawValue) \(byKind[$0.offset])" }
        lines.append("  anomalies: \(anomalies) samples" + (kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))"))
        lines.append("  invalid lines: \(invalid.total) (\(invalid.breakdown)); lost frames: \(lost)")
        if let labels {
            lines.append("  labels: precision \(FixedPoint.format(labels.precision, digits: 4)), recall \(FixedPoint.format(labels.recall, digits: 4)), "
                + "F1 \(FixedPoint.format(labels.f1, digits: 4)) (tp \(labels.truePositives), fp \(labels.falsePositives), "
                + "fn \(labels.falseNegatives), tn \(labels.trueNegatives))")
        }
        if errorCount > 0 {
            lines.append("  \(errorCount) line\(errorCount == 1 ? "" : "s") did not fit their file's format (skipped):")
            lines += errors.map { "    \($0)" }
            if errorCount > errors.count { lines.append("    ... and \(errorCount - errors.count) more") }
        }
        lines += unusable.map { "  nothing to score in \($0)" }
        if unreadable > 0 { lines.append("  \(unreadable) file\(unreadable == 1 ? "" : "s") could not be read") }
        lines += writeFailures.map { "  \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
