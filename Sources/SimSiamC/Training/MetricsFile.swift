import Foundation

/// `metrics.jsonl`: one JSON object per finished epoch.
///
/// simsiamc rewrites it whole and atomically, but a run directory may have
/// been copied mid-write or edited by hand: a line that does not decode is
/// skipped and reported, never fatal, so `plot` and `--resume` still work.
public enum MetricsFile {
    /// The epochs that decode, and the 1-based numbers of the lines that did not.
    public static func read(_ url: URL) -> (metrics: [EpochMetrics], unreadableLines: [Int]) {
        guard let data = FileManager.default.contents(atPath: url.path) else { return ([], []) }
        var metrics: [EpochMetrics] = [], unreadable: [Int] = []
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            if let epoch = try? JSONDecoder().decode(EpochMetrics.self, from: Data(line.utf8)) {
                metrics.append(epoch)
            } else {
                unreadable.append(index + 1)
            }
        }
        return (metrics, unreadable)
    }

    /// Replaces the file with `metrics`, one sorted-key JSON line each.
    public static func write(_ metrics: [EpochMetrics], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = try metrics.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
        try AtomicFile.write(Data(lines.utf8), to: url)
    }

    /// "skipped unreadable line 3 of runs/x/metrics.jsonl", or nil when every line read.
    public static func note(_ unreadableLines: [Int], in url: URL) -> String? {
        guard !unreadableLines.isEmpty else { return nil }
        let plural = unreadableLines.count == 1 ? "line" : "lines"
        return "skipped unreadable \(plural) \(unreadableLines.map(String.init).joined(separator: ", ")) of \(url.path)"
    }
}
