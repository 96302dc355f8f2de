import Foundation
import Testing
@testable import SimSiamEval

@Suite("Ablation report")
struct AblationReportTests {
    static let reference = 1 / Double(128).squareRoot()  // 0.0884

    static func run(_ name: String, flags: String, finalStd: Double, finalRank: Double = 120.46, linear: Double? = 0.845,
                    losses: [Double] = [-0.61, -0.83, -0.9123]) -> AblationRun {
        AblationRun(name: name, flags: flags, losses: losses, knnTop1: [0.55, 0.74, 0.81234],
                    collapseStd: [0.085, 0.08, finalStd], collapseReference: reference,
                    collapseRank: [150, 140, finalRank], linearTop1: linear, wallSeconds: 754.2)
    }

    static let healthy = run("stop-gradient on", flags: "", finalStd: 0.079, finalRank: 120.46)
    static let collapsed = run("stop-gradient off", flags: "--no-stop-gradient", finalStd: 0.0004, finalRank: 1.02,
                               linear: nil, losses: [-0.98, -0.999, -1])

    static func report(runs: [AblationRun] = [healthy, collapsed],
                       pixels: (knn: Double, linear: Double)? = (0.8183, 0.8412)) -> AblationStudyReport {
        let (paper, note) = AblationStudyReport.paperFigures(study: "stop-gradient")
        return AblationStudyReport(study: "stop-gradient", title: "Stop-gradient ablation", runs: runs,
                                   paper: paper, paperNote: note, pixelBaseline: pixels,
                                   budget: "2 epochs on the first 20000 images, seed 0, batch 256")
    }

    // MARK: Collapse rule

    @Test("a healthy run near 1/sqrt(d) is not collapsed, one near 0 is")
    func collapseRule() {
        #expect(!AblationStudyReport.isCollapsed(Self.healthy))
        #expect(AblationStudyReport.isCollapsed(Self.collapsed))
    }

    @Test("the threshold is 0.25 x 1/sqrt(d), strictly below, on the final epoch only")
    func collapseThreshold() {
        let threshold = 0.25 * Self.reference
        #expect(AblationStudyReport.isCollapsed(Self.run("just below", flags: "", finalStd: threshold * 0.99)))
        #expect(!AblationStudyReport.isCollapsed(Self.run("at", flags: "", finalStd: threshold)))
        #expect(!AblationStudyReport.isCollapsed(Self.run("just above", flags: "", finalStd: threshold * 1.01)))
        var recovered = Self.healthy
        recovered.collapseStd = [0.001, 0.002, 0.07]
        #expect(!AblationStudyReport.isCollapsed(recovered))
        var late = Self.healthy
        late.collapseStd = [0.09, 0.08, 0.01]
        #expect(AblationStudyReport.isCollapsed(late))
    }

    @Test("a run without a finite final std is not judged collapsed")
    func collapseUnknown() {
        var empty = Self.healthy
        empty.collapseStd = []
        #expect(!AblationStudyReport.isCollapsed(empty))
        let diverged = Self.run("diverged", flags: "--lr 10", finalStd: .nan)
        #expect(!AblationStudyReport.isCollapsed(diverged))
        let row = tableRow(named: "diverged", in: Self.report(runs: [diverged]).markdown)
        #expect(row?.last == "n/a")
    }

    // MARK: Markdown

    @Test("the markdown has the budget, the rule and one row per variant with its numbers")
    func markdownRows() throws {
        let markdown = Self.report().markdown
        #expect(markdown.hasPrefix("# Stop-gradient ablation\n"))
        #expect(markdown.contains("2 epochs on the first 20000 images, seed 0, batch 256"))
        #expect(markdown.contains("| variant | flags | final loss | collapse std (1/sqrt(d) = 0.0884) "
            + "| effective rank of z | kNN top-1 | linear top-1 | wall time | collapsed |"))
        #expect(markdown.contains(Self.report().collapseRule))
        #expect(markdown.contains(AblationStudyReport.rankNote))
        #expect(Self.report().collapseRule.contains("0.25"))

        let healthy = try #require(tableRow(named: "stop-gradient on", in: markdown))
        #expect(healthy == ["stop-gradient on", "(defaults)", "-0.9123", "0.0790", "120.5", "81.23%", "84.50%",
                            "12 min 34 s", "no"])
        let collapsed = try #require(tableRow(named: "stop-gradient off", in: markdown))
        #expect(collapsed == ["stop-gradient off", "`--no-stop-gradient`", "-1.0000", "0.0004", "1.0", "81.23%", "—",
                              "12 min 34 s", "**yes**"])
        #expect(markdown.contains("Raw-pixel baseline (no training): kNN top-1 81.83%, linear top-1 84.12%."))
    }

    @Test("the markdown has the paper's table, its note and links to the four charts")
    func markdownPaper() throws {
        let report = Self.report()
        let markdown = report.markdown
        let heading = try #require(markdown.range(of: "## Paper (ImageNet, 100 epochs, linear top-1)"))
        let paperPart = String(markdown[heading.upperBound...])
        #expect(paperPart.contains("| variant | linear top-1 |"))
        #expect(paperPart.contains("| w/ stop-grad | 67.7 ± 0.1% (mean ± std of 5 trials) |"))
        #expect(paperPart.contains("| w/o stop-grad | 0.1% (collapse, chance level) |"))
        #expect(paperPart.contains(report.paperNote))
        for file in ["loss.svg", "knn.svg", "collapse.svg", "rank.svg"] { #expect(paperPart.contains("](\(file))")) }
    }

    @Test("no pixel baseline, no line; pipes in names do not break the table")
    func markdownEdgeCases() throws {
        var odd = Self.healthy
        odd.name = "pred | fixed"
        let markdown = Self.report(runs: [odd], pixels: nil).markdown
        #expect(!markdown.contains("Raw-pixel baseline"))
        #expect(markdown.contains("| pred \\| fixed | (defaults) |"))
    }

    // MARK: Files

    @Test("write() produces the report, the JSON and four SVG charts labelled with every variant")
    func writesFiles() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("simsiam-ablation-\(UUID())").appendingPathComponent("stop-gradient")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let report = Self.report()
        let urls = try report.write(to: directory)

        #expect(urls.map(\.lastPathComponent) == ["report.md", "report.json", "loss.svg", "knn.svg", "collapse.svg", "rank.svg"])
        for url in urls { #expect(FileManager.default.fileExists(atPath: url.path), "missing \(url.lastPathComponent)") }
        #expect(try String(contentsOf: urls[0], encoding: .utf8) == report.markdown)

        for url in urls[2...] {
            let svg = try String(contentsOf: url, encoding: .utf8)
            #expect(withoutXMLDeclaration(svg).hasPrefix("<svg"), "\(url.lastPathComponent) does not start with <svg")
            let parsed = try ParsedSVG(svg)
            #expect(parsed.rootName == "svg")
            #expect(parsed.elementCounts["polyline"] == 2, "\(url.lastPathComponent): one line per variant")
            for run in report.runs {
                #expect(parsed.texts.contains(run.name), "\(url.lastPathComponent) lacks legend label \(run.name)")
            }
        }
        let knn = try ParsedSVG(String(contentsOf: urls[3], encoding: .utf8))
        #expect(knn.texts.contains("raw pixels kNN 81.83%"))
        let collapse = try ParsedSVG(String(contentsOf: urls[4], encoding: .utf8))
        #expect(collapse.texts.contains("1/sqrt(d) = 0.0884"))
        #expect(collapse.texts.contains("collapse threshold 0.0221"))

        let record = try AblationStudyReport.readRecord(from: urls[1])
        #expect(record == report.record)
        #expect(record.runs == report.runs)
        #expect(record.collapsed == ["stop-gradient off"])
        #expect(record.pixelBaseline == .init(knnTop1: 0.8183, linearTop1: 0.8412))
    }

    @Test("a diverged run is reported with its failure, and its NaN loss survives the JSON round trip")
    func divergedRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiam-ablation-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var diverged = Self.run("diverged", flags: "--lr 10", finalStd: .nan, losses: [-0.5, .infinity, .nan])
        diverged.failure = "loss is nan at epoch 3"
        let report = Self.report(runs: [Self.healthy, diverged])
        #expect(report.markdown.contains("- diverged: loss is nan at epoch 3"))
        #expect(tableRow(named: "diverged", in: report.markdown)?.last == "n/a (failed)")
        #expect(tableRow(named: "stop-gradient on", in: report.markdown)?.last == "no")

        let urls = try report.write(to: directory)
        let record = try AblationStudyReport.readRecord(from: urls[1])
        let losses = try #require(record.runs.last?.losses)
        #expect(losses.count == 3 && losses[0] == -0.5 && losses[1] == .infinity && losses[2].isNaN)
        #expect(record.runs.last?.failure == "loss is nan at epoch 3")
        #expect(record.runs.first?.failure == nil)
        #expect(record.collapsed.isEmpty)
    }

    @Test("a run encoded without the failure field decodes with failure nil")
    func runWithoutFailureField() throws {
        let json = #"{"name":"a","flags":"","losses":[-0.9],"knnTop1":[0.7],"collapseStd":[0.08],"#
            + #""collapseReference":0.0884,"linearTop1":null,"wallSeconds":3}"#
        let run = try JSONDecoder().decode(AblationRun.self, from: Data(json.utf8))
        #expect(run.failure == nil && run.name == "a" && run.linearTop1 == nil)
    }

    // MARK: Paper figures

    @Test("the paper's figures per study", arguments: [
        ("stop-gradient", [("w/ stop-grad", "67.7 ± 0.1%"), ("w/o stop-grad", "0.1%")]),
        ("predictor", [("baseline", "67.7%"), ("no predictor", "0.1%"), ("fixed at random init", "1.5%"),
                       ("lr not decayed", "68.1%")]),
        ("batch-size", [("batch 64", "66.1%"), ("batch 128", "67.3%"), ("batch 256", "68.1%"), ("batch 512", "68.1%"),
                        ("batch 1024", "68.0%"), ("batch 2048", "67.9%"), ("batch 4096", "64.0%")]),
        ("bn", [("none", "34.6%"), ("hidden layers only", "67.4%"), ("projector output", "68.1%"),
                ("predictor output", "unstable")]),
        ("similarity", [("cosine", "68.1%"), ("cross-entropy", "63.2%")]),
        ("symmetry", [("symmetric", "68.1%"), ("asymmetric", "64.8%"), ("asymmetric 2x", "67.3%")]),
    ])
    func paperFigures(study: String, expected: [(String, String)]) {
        let (figures, note) = AblationStudyReport.paperFigures(study: study)
        #expect(figures.count == expected.count)
        for (figure, (variant, result)) in zip(figures, expected) {
            #expect(figure.variant.contains(variant), "\(figure.variant) vs \(variant)")
            #expect(figure.result.hasPrefix(result), "\(figure.variant): \(figure.result) vs \(result)")
        }
        #expect(!note.isEmpty)
    }

    @Test("study names are matched loosely; unknown ones give no figures")
    func studyAliases() {
        for alias in ["Stop-Gradient", "stopgrad", "stop_grad"] {
            #expect(AblationStudyReport.paperFigures(study: alias).figures.count == 2, "\(alias)")
        }
        #expect(AblationStudyReport.paperFigures(study: "batch").figures.count == 7)
        #expect(AblationStudyReport.paperFigures(study: "BatchNorm").figures.count == 4)
        #expect(AblationStudyReport.paperFigures(study: "symmetrization").figures.count == 3)
        let unknown = AblationStudyReport.paperFigures(study: "momentum")
        #expect(unknown.figures.isEmpty && unknown.note.contains("momentum"))
        #expect(AblationStudyReport.studies.allSatisfy { !AblationStudyReport.paperFigures(study: $0).figures.isEmpty })
    }
}

/// The cells of the markdown table row whose first cell is `name`, or nil.
private func tableRow(named name: String, in markdown: String) -> [String]? {
    for line in markdown.split(separator: "\n") where line.hasPrefix("| \(name) |") {
        return line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
    }
    return nil
}

/// `svg` without a leading `<?xml ...?>` declaration and whitespace.
private func withoutXMLDeclaration(_ svg: String) -> Substring {
    var rest = Substring(svg)
    if rest.hasPrefix("<?xml"), let end = rest.range(of: "?>") { rest = rest[end.upperBound...] }
    return rest.drop { $0.isWhitespace }
}
