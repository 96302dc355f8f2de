import Foundation

/// The pictures of a run: loss, kNN accuracy and the collapse monitors per
/// epoch, as SVG files in the run directory.
public enum RunPlots {
    /// Writes `loss.svg`, `knn.svg` (unless no epoch has a kNN figure: data without labels or
    /// held-out images), `collapse.svg` and, when the metrics have it, `rank.svg`; returns their paths.
    @discardableResult
    public static func write(_ metrics: [EpochMetrics], to directory: URL, title: String,
                             baselines: [(name: String, knnTop1: Double)] = []) throws -> [URL] {
        let epochs = metrics.map { Double($0.epoch + 1) }
        var loss = SVGPlot(title: "\(title): training loss", xLabel: "epoch", yLabel: "mean loss (-1 = identical views)")
        loss.addSeries(name: "loss", points: zip(epochs, metrics.map(\.loss)).map { (x: $0, y: $1) })
        var knn = SVGPlot(title: "\(title): kNN monitor (k 200, T 0.1)", xLabel: "epoch", yLabel: "test top-1 accuracy (%)")
        let knnPoints = metrics.compactMap { metric in metric.knnTop1.map { (x: Double(metric.epoch + 1), y: 100 * $0) } }
        knn.addSeries(name: "learned backbone", points: knnPoints)
        for baseline in baselines {
            knn.addReference(name: String(format: "%@ %.1f%%", baseline.name as NSString, 100 * baseline.knnTop1),
                             value: 100 * baseline.knnTop1, style: .baseline)
        }
        var collapse = SVGPlot(title: "\(title): collapse monitor", xLabel: "epoch", yLabel: "std of l2-normalised z")
        collapse.addSeries(name: "std(z / |z|)", points: zip(epochs, metrics.map(\.collapseStd)).map { (x: $0, y: $1) })
        if let reference = metrics.first?.collapseReference {
            collapse.addReference(name: String(format: "1/sqrt(d) = %.4f", reference), value: reference)
        }
        var plots = knnPoints.isEmpty ? [("loss.svg", loss), ("collapse.svg", collapse)]
            : [("loss.svg", loss), ("knn.svg", knn), ("collapse.svg", collapse)]
        let ranked = metrics.compactMap { metric in metric.collapseRank.map { (x: Double(metric.epoch + 1), y: $0) } }
        if !ranked.isEmpty {
            var rank = SVGPlot(title: "\(title): effective rank of z", xLabel: "epoch", yLabel: "effective rank of z / |z|")
            rank.addSeries(name: "effective rank", points: ranked)
            plots.append(("rank.svg", rank))
        }
        let files = plots.map { name, plot in (directory.appendingPathComponent(name), plot) }
        for (url, plot) in files { try plot.write(to: url) }
        return files.map(\.0)
    }
}
