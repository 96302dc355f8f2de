import Foundation

/// A line chart rendered as a standalone SVG file: title, labelled axes with round ticks,
/// named series with a legend, and horizontal reference lines.
///
/// ```swift
/// var plot = SVGPlot(title: "kNN accuracy", xLabel: "epoch", yLabel: "top-1 accuracy")
/// plot.addSeries(name: "SimSiam ResNet-18", points: [(1, 0.41), (2, 0.55), (3, 0.61)])
/// plot.addReference(name: "raw pixels kNN 81.8%", value: 0.818, style: .baseline)
/// try plot.write(to: URL(fileURLWithPath: "knn.svg"))
/// ```
public struct SVGPlot: Sendable {
    /// How a horizontal line is drawn.
    public enum ReferenceStyle: Sendable {
        /// Thin grey dotted line labelled at its right end: a value to compare against, such
        /// as `1/sqrt(d)` on the collapse monitor.
        case reference
        /// Dashed dark line, labelled and listed in the legend: a competing method's score.
        case baseline
    }

    struct Series: Sendable {
        var name: String
        var points: [Point]
    }

    struct Point: Sendable {
        var x: Double
        var y: Double
    }

    struct Reference: Sendable {
        var name: String
        var value: Double
        var style: ReferenceStyle
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Fixes the y axis (e.g. `0...1` for accuracies); by default it fits the data and references.
    public var yDomain: ClosedRange<Double>?
    /// Width of the whole image in pixels, legend included.
    public var width: Double = 820
    /// Height of the whole image in pixels.
    public var height: Double = 480

    var series: [Series] = []
    var references: [Reference] = []

    /// An empty chart with a title and axis labels.
    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Adds a line through `points`, drawn in x order; non-finite points are left out.
    public mutating func addSeries(name: String, points: [(x: Double, y: Double)]) {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }.map { Point(x: $0.x, y: $0.y) }
        // A stable sort keeps the caller's order among equal x.
        let ordered = finite.enumerated().sorted { ($0.element.x, $0.offset) < ($1.element.x, $1.offset) }
        series.append(Series(name: name, points: ordered.map(\.element)))
    }

    /// Adds a horizontal line at `value` labelled `name`; ignored if `value` is not finite.
    public mutating func addReference(name: String, value: Double, style: ReferenceStyle = .reference) {
        guard value.isFinite else { return }
        references.append(Reference(name: name, value: value, style: style))
    }

    /// The chart as a complete SVG document.
    public func render() -> String { SVGPlotRenderer(plot: self).document() }

    /// Writes ``render()`` to `url` as UTF-8.
    public func write(to url: URL) throws {
        try render().write(to: url, atomically: true, encoding: .utf8)
    }
}
