import Foundation

extension AblationStudyReport {
    /// What `report.json` holds: the runs, with the study's context and verdicts.
    ///
    /// Non-finite numbers (a diverged run's loss) are written as the strings "nan", "inf" and
    /// "-inf"; ``readRecord(from:)`` reads them back.
    public struct Record: Codable, Sendable, Equatable {
        public struct PixelBaseline: Codable, Sendable, Equatable {
            public var knnTop1: Double
            public var linearTop1: Double
        }

        public var study: String
        public var title: String
        public var budget: String
        public var collapseRule: String
        /// Names of the runs ``AblationStudyReport/isCollapsed(_:)`` judges collapsed.
        public var collapsed: [String]
        public var pixelBaseline: PixelBaseline?
        public var paper: [PaperFigure]
        public var paperNote: String
        public var runs: [AblationRun]
    }

    /// The content of `report.json`.
    public var record: Record {
        Record(study: study, title: title, budget: budget, collapseRule: collapseRule,
               collapsed: runs.filter(Self.isCollapsed).map(\.name),
               pixelBaseline: pixelBaseline.map { Record.PixelBaseline(knnTop1: $0.knn, linearTop1: $0.linear) },
               paper: paper, paperNote: paperNote, runs: runs)
    }

    /// Reads a `report.json` written by ``write(to:)``.
    public static func readRecord(from url: URL) throws -> Record {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = nonFiniteStrings.decoding
        return try decoder.decode(Record.self, from: Data(contentsOf: url))
    }

    /// Writes `report.md`, `report.json`, `loss.svg`, `knn.svg`, `collapse.svg` and `rank.svg` into
    /// `directory` (created if missing) and returns their URLs in that order.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let markdownURL = directory.appendingPathComponent("report.md")
        try markdown.write(to: markdownURL, atomically: true, encoding: .utf8)

        let jsonURL = directory.appendingPathComponent("report.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = Self.nonFiniteStrings.encoding
        try encoder.encode(record).write(to: jsonURL, options: .atomic)

        let plots = self.plots
        var urls = [markdownURL, jsonURL]
        for (file, plot) in zip(Self.plotFiles.map(\.file), [plots.loss, plots.knn, plots.collapse, plots.rank]) {
            let url = directory.appendingPathComponent(file)
            try plot.write(to: url)
            urls.append(url)
        }
        return urls
    }

    /// The four charts, one line per run labelled with its name.
    var plots: (loss: SVGPlot, knn: SVGPlot, collapse: SVGPlot, rank: SVGPlot) {
        func epochs(_ values: [Double], scale: Double = 1) -> [(x: Double, y: Double)] {
            values.enumerated().map { (x: Double($0.offset + 1), y: scale * $0.element) }
        }
        var loss = SVGPlot(title: "\(title): training loss", xLabel: "epoch",
                           yLabel: "mean loss (-1 = identical views)")
        var knn = SVGPlot(title: "\(title): kNN monitor", xLabel: "epoch", yLabel: "test top-1 accuracy (%)")
        var collapse = SVGPlot(title: "\(title): collapse monitor", xLabel: "epoch", yLabel: "std of l2-normalised z")
        var rank = SVGPlot(title: "\(title): effective rank of z", xLabel: "epoch", yLabel: "effective rank of z / |z|")
        for run in runs {
            if let ranks = run.collapseRank, !ranks.isEmpty { rank.addSeries(name: run.name, points: epochs(ranks)) }
            loss.addSeries(name: run.name, points: epochs(run.losses))
            knn.addSeries(name: run.name, points: epochs(run.knnTop1, scale: 100))
            collapse.addSeries(name: run.name, points: epochs(run.collapseStd))
        }
        if let pixels = pixelBaseline {
            knn.addReference(name: "raw pixels kNN \(AblationFormat.percent(pixels.knn))", value: 100 * pixels.knn,
                             style: .baseline)
        }
        var references: [Double] = []
        for run in runs where run.collapseReference.isFinite && !references.contains(run.collapseReference) {
            references.append(run.collapseReference)
        }
        for reference in references {
            let threshold = Self.collapseThresholdFraction * reference
            collapse.addReference(name: "1/sqrt(d) = \(AblationFormat.decimal(reference, places: 4))", value: reference)
            collapse.addReference(name: "collapse threshold \(AblationFormat.decimal(threshold, places: 4))",
                                  value: threshold)
        }
        return (loss, knn, collapse, rank)
    }

    /// Non-finite numbers as JSON strings, both ways.
    private static var nonFiniteStrings: (encoding: JSONEncoder.NonConformingFloatEncodingStrategy,
                                          decoding: JSONDecoder.NonConformingFloatDecodingStrategy) {
        (.convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"),
         .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"))
    }
}
