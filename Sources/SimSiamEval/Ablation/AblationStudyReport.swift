import Foundation

/// The report of one ablation study (one of the SimSiam paper's ablations rerun on our
/// workload): a markdown table of the variants beside the paper's figures, the runs as JSON,
/// and loss, kNN and collapse curves with one labelled line per variant.
///
/// ```swift
/// let (paper, note) = AblationStudyReport.paperFigures(study: "stop-gradient")
/// let report = AblationStudyReport(study: "stop-gradient", title: "Stop-gradient", runs: runs,
///                                  paper: paper, paperNote: note, pixelBaseline: (knn: 0.82, linear: 0.84),
///                                  budget: "2 epochs on the first 20000 images, seed 0, batch 256")
/// let files = try report.write(to: URL(fileURLWithPath: "runs/ablate/stop-gradient"))
/// ```
public struct AblationStudyReport: Sendable {
    private typealias Format = AblationFormat

    /// The study's key, e.g. "stop-gradient".
    public var study: String
    /// The report's heading.
    public var title: String
    /// The variants, in table and legend order.
    public var runs: [AblationRun]
    /// The paper's figures for the same ablation.
    public var paper: [PaperFigure]
    /// How the paper ran it, printed under its table.
    public var paperNote: String
    /// kNN and linear-probe top-1 (fractions) of the raw pixels, if measured.
    public var pixelBaseline: (knn: Double, linear: Double)?
    /// The training budget every variant got, e.g. "2 epochs on the first 20000 images, seed 0, batch 256".
    public var budget: String

    /// A run is collapsed when its final collapse std is below this fraction of `1/sqrt(d)`.
    public static let collapseThresholdFraction = 0.25

    public init(study: String, title: String, runs: [AblationRun], paper: [PaperFigure], paperNote: String,
                pixelBaseline: (knn: Double, linear: Double)?, budget: String) {
        self.study = study
        self.title = title
        self.runs = runs
        self.paper = paper
        self.paperNote = paperNote
        self.pixelBaseline = pixelBaseline
        self.budget = budget
    }

    /// The collapse rule in words, as the markdown states it.
    public var collapseRule: String {
        "A run is collapsed when its final collapse std (the mean over channels of the per-channel std of "
            + "z/|z| across a batch, after the last epoch) is below \(Self.collapseThresholdFraction) × 1/sqrt(d): "
            + "a healthy run sits near 1/sqrt(d), a collapsed one near 0. A run without a finite final value "
            + "is not judged (shown as n/a)."
    }

    /// What the effective-rank column measures, as the markdown states it.
    static let rankNote = "Effective rank of z: exp of the entropy of the singular values (divided by their sum) "
        + "of the last training batch of z/|z|, centred per channel; at most min(batch, d). Rows along k equally "
        + "used directions score k. It shows dimensional collapse, which the std misses when the projector "
        + "ends in a batch norm: that BN holds every channel's batch variance at 1, so z cannot shrink to one "
        + "point, but its rows can still crowd into a few directions. Rank ignores scale: rows crowded around "
        + "one point with a small, even scatter still score high; that collapse is the std's to see."

    /// Whether `run` collapsed: its final collapse std is below ``collapseThresholdFraction`` x
    /// `collapseReference`. False when there is no finite final value (no epochs, or a diverged run).
    public static func isCollapsed(_ run: AblationRun) -> Bool {
        guard let final = run.collapseStd.last, final.isFinite, run.collapseReference.isFinite else { return false }
        return final < collapseThresholdFraction * run.collapseReference
    }

    /// The report as GitHub-flavoured markdown.
    public var markdown: String {
        var lines = ["# \(title)", "", "Budget: \(budget).", ""]
        lines.append("| variant | flags | final loss | collapse std (1/sqrt(d) = \(referenceLabel)) "
            + "| effective rank of z | kNN top-1 | linear top-1 | wall time | collapsed |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for run in runs {
            let cells = [
                Format.tableCell(run.name),
                run.flags.isEmpty ? "(defaults)" : "`\(Format.tableCell(run.flags))`",
                run.losses.last.map { Format.decimal($0, places: 4) } ?? Format.missing,
                run.collapseStd.last.map { Format.decimal($0, places: 4) } ?? Format.missing,
                run.collapseRank?.last.map { Format.decimal($0, places: 1) } ?? Format.missing,
                run.knnTop1.last.map(Format.percent) ?? Format.missing,
                run.linearTop1.map(Format.percent) ?? Format.missing,
                Format.duration(run.wallSeconds),
                collapsedCell(run),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += ["", "Collapse rule: \(collapseRule)", "", Self.rankNote, ""]
        let failed = runs.filter { $0.failure != nil }
        if !failed.isEmpty {
            lines.append("Runs that stopped early (their rows show the epochs completed before):")
            lines += failed.map { "- \($0.name): \($0.failure!.replacingOccurrences(of: "\n", with: " "))" }
            lines.append("")
        }
        if let pixels = pixelBaseline {
            lines += ["Raw-pixel baseline (no training): kNN top-1 \(Format.percent(pixels.knn)), "
                + "linear top-1 \(Format.percent(pixels.linear)).", ""]
        }
        lines += ["## Paper (ImageNet, 100 epochs, linear top-1)", ""]
        if paper.isEmpty {
            lines.append("The paper reports no figures for this study.")
        } else {
            lines += ["| variant | linear top-1 |", "|---|---|"]
            lines += paper.map { "| \(Format.tableCell($0.variant)) | \(Format.tableCell($0.result)) |" }
        }
        if !paperNote.isEmpty { lines += ["", paperNote] }
        lines += ["", "Source: Chen & He, \"Exploring Simple Siamese Representation Learning\", CVPR 2021 "
            + "(ResNet-50 pre-trained on ImageNet for 100 epochs). Their figures are for reference only: "
            + "the dataset, network and budget here differ.", ""]
        lines += ["## Curves", ""]
        lines += Self.plotFiles.map { "- [\($0.caption)](\($0.file))" } + [""]
        for (file, caption) in Self.plotFiles { lines += ["![\(caption)](\(file))", ""] }
        return lines.joined(separator: "\n")
    }

    /// The plot files and their captions, in writing order.
    static let plotFiles: [(file: String, caption: String)] = [
        ("loss.svg", "Training loss per epoch"),
        ("knn.svg", "kNN top-1 per epoch"),
        ("collapse.svg", "Collapse monitor per epoch"),
        ("rank.svg", "Effective rank of z per epoch"),
    ]

    /// The distinct `1/sqrt(d)` values of the runs, for the table header.
    private var referenceLabel: String {
        var seen: [Double] = []
        for run in runs where !seen.contains(run.collapseReference) { seen.append(run.collapseReference) }
        return seen.isEmpty ? Format.missing : seen.map { Format.decimal($0, places: 4) }.joined(separator: " / ")
    }

    private func collapsedCell(_ run: AblationRun) -> String {
        guard let final = run.collapseStd.last, final.isFinite else { return run.failure == nil ? "n/a" : "n/a (failed)" }
        return (Self.isCollapsed(run) ? "**yes**" : "no") + (run.failure == nil ? "" : " (failed)")
    }
}

// MARK: - Formatting

/// Number formats shared by the markdown table and the plot labels.
enum AblationFormat {
    static let missing = "—"

    /// `fraction` as a percentage with two decimals, e.g. 0.81234 -> "81.23%".
    static func percent(_ fraction: Double) -> String {
        fraction.isFinite ? String(format: "%.2f%%", 100 * fraction) : "n/a"
    }

    static func decimal(_ value: Double, places: Int) -> String {
        value.isFinite ? String(format: "%.\(places)f", value) : "n/a"
    }

    /// A wall time as "42.3 s", "12 min 05 s" or "2 h 03 min".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "n/a" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    /// `text` safe inside a markdown table cell: pipes escaped, line breaks flattened.
    static func tableCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
