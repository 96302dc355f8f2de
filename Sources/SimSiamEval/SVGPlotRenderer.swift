import Foundation

/// Lays out and draws one ``SVGPlot``.
struct SVGPlotRenderer {
    let plot: SVGPlot

    /// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    static let fontFamily = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
    static let legendFontSize = 12.0

    private var legendEntries: [(name: String, kind: LegendKind)] {
        plot.series.enumerated().map { ($0.element.name, .series(Self.palette[$0.offset % Self.palette.count])) }
            + plot.references.filter { $0.style == .baseline }.map { ($0.name, .baseline) }
    }

    private enum LegendKind { case series(String), baseline }

    // Plot-area edges in pixels. The legend gets a column right of the plot sized to its
    // longest name (estimated at 0.6 em per character), so it never covers data.
    private var legendWidth: Double {
        let longest = legendEntries.map(\.name.count).max() ?? 0
        return longest == 0 ? 0 : 44 + 0.6 * Self.legendFontSize * Double(longest)
    }
    private var left: Double { 78 }
    private var right: Double { max(left + 120, plot.width - 24 - legendWidth) }
    private var top: Double { 52 }
    private var bottom: Double { plot.height - 62 }

    private var allPoints: [SVGPlot.Point] { plot.series.flatMap(\.points) }

    private var xScale: AxisScale {
        let xs = allPoints.map(\.x)
        return xs.isEmpty ? AxisScale(fixed: 0, 1) : AxisScale(covering: xs.min()!, xs.max()!)
    }

    private var yScale: AxisScale {
        if let domain = plot.yDomain { return AxisScale(fixed: domain.lowerBound, domain.upperBound) }
        let ys = allPoints.map(\.y) + plot.references.map(\.value)
        return ys.isEmpty ? AxisScale(fixed: 0, 1) : AxisScale(covering: ys.min()!, ys.max()!)
    }

    func document() -> String {
        let (xScale, yScale) = (self.xScale, self.yScale)
        func px(_ x: Double) -> Double { left + (x - xScale.lower) / (xScale.upper - xScale.lower) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - yScale.lower) / (yScale.upper - yScale.lower) * (bottom - top) }

        var svg = SVGWriter()
        svg.line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        svg.line("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(pixels(plot.width))\" height=\"\(pixels(plot.height))\" "
            + "viewBox=\"0 0 \(pixels(plot.width)) \(pixels(plot.height))\" font-family=\"\(Self.fontFamily)\">")
        svg.line("<title>\(escaped(plot.title))</title>")
        // The clip reaches a marker radius past the frame: axis bounds often equal the data's
        // extremes, and points there should show whole, not halved.
        svg.line("<defs><clipPath id=\"plot-area\"><rect x=\"\(pixels(left - 4))\" y=\"\(pixels(top - 4))\" "
            + "width=\"\(pixels(right - left + 8))\" height=\"\(pixels(bottom - top + 8))\"/></clipPath></defs>")
        svg.line("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>")
        svg.line("<text x=\"\(pixels(plot.width / 2))\" y=\"30\" text-anchor=\"middle\" font-size=\"18\" "
            + "font-weight=\"600\" fill=\"#222\">\(escaped(plot.title))</text>")

        // Grid and tick labels first so the data draws over them.
        svg.line("<g stroke=\"#e6e6e6\" stroke-width=\"1\">")
        for tick in xScale.ticks { svg.line("<line x1=\"\(pixels(px(tick)))\" y1=\"\(pixels(top))\" x2=\"\(pixels(px(tick)))\" y2=\"\(pixels(bottom))\"/>") }
        for tick in yScale.ticks { svg.line("<line x1=\"\(pixels(left))\" y1=\"\(pixels(py(tick)))\" x2=\"\(pixels(right))\" y2=\"\(pixels(py(tick)))\"/>") }
        svg.line("</g>")
        svg.line("<g font-size=\"12\" fill=\"#444\">")
        for tick in xScale.ticks {
            svg.line("<text x=\"\(pixels(px(tick)))\" y=\"\(pixels(bottom + 18))\" text-anchor=\"middle\">\(xScale.label(tick))</text>")
        }
        for tick in yScale.ticks {
            svg.line("<text x=\"\(pixels(left - 8))\" y=\"\(pixels(py(tick) + 4))\" text-anchor=\"end\">\(yScale.label(tick))</text>")
        }
        svg.line("</g>")
        svg.line("<rect x=\"\(pixels(left))\" y=\"\(pixels(top))\" width=\"\(pixels(right - left))\" height=\"\(pixels(bottom - top))\" "
            + "fill=\"none\" stroke=\"#888\" stroke-width=\"1\"/>")
        svg.line("<text x=\"\(pixels((left + right) / 2))\" y=\"\(pixels(plot.height - 18))\" text-anchor=\"middle\" "
            + "font-size=\"14\" fill=\"#222\">\(escaped(plot.xLabel))</text>")
        svg.line("<text transform=\"translate(20 \(pixels((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" "
            + "font-size=\"14\" fill=\"#222\">\(escaped(plot.yLabel))</text>")

        svg.line("<g clip-path=\"url(#plot-area)\">")
        for reference in plot.references {
            let y = pixels(py(reference.value))
            let (stroke, dash, width) = reference.style == .baseline ? ("#333", "8 5", "1.5") : ("#777", "2 4", "1.5")
            svg.line("<line x1=\"\(pixels(left))\" y1=\"\(y)\" x2=\"\(pixels(right))\" y2=\"\(y)\" stroke=\"\(stroke)\" "
                + "stroke-width=\"\(width)\" stroke-dasharray=\"\(dash)\"/>")
            // Above the line, unless that would put the label outside the clipped plot area.
            let labelY = py(reference.value) - 5 < top + 14 ? py(reference.value) + 15 : py(reference.value) - 5
            svg.line("<text x=\"\(pixels(right - 6))\" y=\"\(pixels(labelY))\" text-anchor=\"end\" font-size=\"12\" "
                + "fill=\"\(stroke)\" font-style=\"italic\">\(escaped(reference.name))</text>")
        }
        for (index, series) in plot.series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let coordinates = series.points.map { "\(pixels(px($0.x))),\(pixels(py($0.y)))" }.joined(separator: " ")
            if series.points.count > 1 {
                svg.line("<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" "
                    + "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>")
            }
            // Markers show where the samples are on short series, and are the only way a
            // single-point series is visible at all.
            if series.points.count <= 60 {
                for point in series.points {
                    svg.line("<circle cx=\"\(pixels(px(point.x)))\" cy=\"\(pixels(py(point.y)))\" r=\"3\" fill=\"\(color)\"/>")
                }
            }
        }
        svg.line("</g>")

        if allPoints.isEmpty {
            svg.line("<text x=\"\(pixels((left + right) / 2))\" y=\"\(pixels((top + bottom) / 2))\" text-anchor=\"middle\" "
                + "font-size=\"14\" fill=\"#999\">no data</text>")
        }
        drawLegend(into: &svg)
        svg.line("</svg>")
        return svg.text
    }

    private func drawLegend(into svg: inout SVGWriter) {
        guard !legendEntries.isEmpty else { return }
        let x = right + 16
        svg.line("<g font-size=\"\(pixels(Self.legendFontSize))\" fill=\"#222\">")
        for (row, entry) in legendEntries.enumerated() {
            let y = top + 10 + Double(row) * 22
            switch entry.kind {
            case .series(let color):
                svg.line("<line x1=\"\(pixels(x))\" y1=\"\(pixels(y))\" x2=\"\(pixels(x + 26))\" y2=\"\(pixels(y))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>")
            case .baseline:
                svg.line("<line x1=\"\(pixels(x))\" y1=\"\(pixels(y))\" x2=\"\(pixels(x + 26))\" y2=\"\(pixels(y))\" stroke=\"#333\" "
                    + "stroke-width=\"1.5\" stroke-dasharray=\"8 5\"/>")
            }
            svg.line("<text x=\"\(pixels(x + 34))\" y=\"\(pixels(y + 4))\">\(escaped(entry.name))</text>")
        }
        svg.line("</g>")
    }
}

/// Accumulates the document line by line.
private struct SVGWriter {
    var text = ""
    mutating func line(_ element: String) { text += element + "\n" }
}

/// A pixel coordinate with two decimals: exact enough for any screen, short enough to diff.
private func pixels(_ value: Double) -> String {
    // Clamped so data far outside a fixed y domain still prints as a plain number (the clip
    // path hides it anyway).
    let rounded = (min(max(value, -1e6), 1e6) * 100).rounded() / 100
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
}

/// `text` safe inside XML character data and attribute values.
func escaped(_ text: String) -> String {
    var result = ""
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        default: result.append(character)
        }
    }
    return result
}
