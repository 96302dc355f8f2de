import Foundation
import Testing
@testable import SimSiamEval

@Suite("SVG plot")
struct SVGPlotTests {
    @Test("a full chart is well-formed XML naming every series and reference")
    func wellFormed() throws {
        var plot = SVGPlot(title: "kNN accuracy <CIFAR-10>", xLabel: "epoch", yLabel: "top-1 accuracy")
        plot.addSeries(name: "SimSiam & ResNet-18", points: (1...50).map { (Double($0), 0.3 + 0.01 * Double($0)) })
        plot.addSeries(name: "SimSiam, no predictor", points: (1...50).map { (Double($0), 0.1) })
        plot.addReference(name: "raw pixels kNN 81.8%", value: 0.818, style: .baseline)
        plot.addReference(name: "1/sqrt(d)", value: 0.0884)
        let parsed = try ParsedSVG(plot.render())
        for name in ["kNN accuracy <CIFAR-10>", "epoch", "top-1 accuracy", "SimSiam & ResNet-18",
                     "SimSiam, no predictor", "raw pixels kNN 81.8%", "1/sqrt(d)"] {
            #expect(parsed.texts.contains(name), "missing \(name)")
        }
        #expect(parsed.elementCounts["polyline"] == 2)
        #expect(parsed.rootName == "svg")
    }

    @Test("a single point is drawn as a marker")
    func singlePoint() throws {
        var plot = SVGPlot(title: "one epoch", xLabel: "epoch", yLabel: "loss")
        plot.addSeries(name: "loss", points: [(1, -0.5)])
        let parsed = try ParsedSVG(plot.render())
        #expect(parsed.elementCounts["circle"] == 1)
        #expect(parsed.elementCounts["polyline"] == nil)
    }

    @Test("empty and non-finite series still give a valid chart")
    func emptySeries() throws {
        var plot = SVGPlot(title: "nothing yet", xLabel: "epoch", yLabel: "accuracy")
        plot.addSeries(name: "pending", points: [])
        plot.addSeries(name: "diverged", points: [(1, .nan), (.infinity, 2)])
        let parsed = try ParsedSVG(plot.render())
        #expect(parsed.texts.contains("no data"))
        #expect(parsed.texts.contains("pending"))
        #expect(!plot.render().contains("nan"))
    }

    @Test("a constant series gets an axis with range around its value")
    func constantSeries() throws {
        var plot = SVGPlot(title: "flat", xLabel: "step", yLabel: "std")
        plot.addSeries(name: "collapsed", points: (0..<10).map { (Double($0), 0.5) })
        let parsed = try ParsedSVG(plot.render())
        let tickValues = parsed.texts.compactMap(Double.init)
        #expect(tickValues.contains { $0 < 0.5 } && tickValues.contains { $0 > 0.5 })
        #expect(!plot.render().contains("nan"))
    }

    @Test("axis ticks are round numbers that cover the data", arguments: [
        (0.0, 0.93, 0.2), (0.412, 0.873, 0.1), (1.0, 800.0, 200.0), (0.0712, 0.0884, 0.005),
    ])
    func niceTicks(lower: Double, upper: Double, step: Double) {
        let scale = AxisScale(covering: lower, upper)
        #expect(abs(scale.step - step) < 1e-12)
        #expect(scale.lower <= lower && scale.upper >= upper)
        #expect(scale.ticks.count >= 3 && scale.ticks.count <= 11)
    }

    @Test("tick labels carry just enough decimals")
    func tickLabels() {
        let scale = AxisScale(covering: 0, 0.93)
        #expect(scale.ticks.map(scale.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(AxisScale(covering: 1, 800).label(400) == "400")
    }

    @Test("write(to:) produces the rendered file")
    func writesFile() throws {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
        plot.addSeries(name: "s", points: [(0, 0), (1, 1)])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("simsiam-eval-\(UUID()).svg")
        defer { try? FileManager.default.removeItem(at: url) }
        try plot.write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == plot.render())
    }
}
