import Foundation

/// What a gradient check found: every trainable tensor's relative error
/// against finite differences, and whether the worst is within the tolerance.
public struct GradientCheckReport: Sendable {
    /// One per trainable tensor, in symbol-table order.
    public let results: [TensorGradientError]
    public let tolerance: Double
    public let probes: GradientProbes
    /// The loss at the checked point.
    public let loss: Double
    /// Wall time of the check (initialisation, probes), without compiling.
    public let seconds: Double

    public init(results: [TensorGradientError], tolerance: Double, probes: GradientProbes, loss: Double, seconds: Double) {
        self.results = results
        self.tolerance = tolerance
        self.probes = probes
        self.loss = loss
        self.seconds = seconds
    }

    /// The tensor with the largest error (nil for a model without trainable tensors).
    public var worst: TensorGradientError? { results.max { $0.error < $1.error } }

    /// Tensors above the tolerance, worst first.
    public var failing: [TensorGradientError] { results.filter { !($0.error <= tolerance) }.sorted { $0.error > $1.error } }

    /// Every tensor within the tolerance (a NaN error fails).
    public var passed: Bool { failing.isEmpty }

    /// The table a user reads: one row per tensor, worst first, then the verdict.
    public var table: String {
        let sorted = results.sorted { $0.error > $1.error }
        let nameWidth = max(6, sorted.map(\.name.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        var lines = [pad("tensor", nameWidth) + "  " + pad("shape", 14) + "  probes  one-sided  rel. error  max |grad|"]
        for result in sorted {
            let shape = "[" + result.shape.map(String.init).joined(separator: ",") + "]"
            // Below the floor the error is relative to the floor, not to max |grad|.
            let mark = (result.error <= tolerance ? "" : "  FAIL") + (result.scale < result.floor ? "  (max |grad| below the floor: error relative to \(String(format: "%.2e", result.floor)))" : "")
            lines.append(pad(result.name, nameWidth) + "  " + pad(shape, 14) + "  " + String(format: "%6d  %9d  %10.2e  %10.2e", result.probes, result.remeasured, result.error, result.scale) + mark)
        }
        let probeCount = results.map(\.probes).reduce(0, +), remeasured = results.map(\.remeasured).reduce(0, +)
        lines.append(String(format: "%d tensors, %d probes (%d first above the tolerance, re-measured one-sided in case a ReLU kink lay within h), loss %.6f, h %g, %.1f s",
                            results.count, probeCount, remeasured, loss, probes.step, seconds))
        if let worst {
            lines.append(String(format: "worst: %@ at %.2e relative, tolerance %.0e: %@", worst.name, worst.error, tolerance,
                                passed ? "passed" : "FAILED (\(failing.count) of \(results.count) tensors above it)"))
        }
        return lines.joined(separator: "\n")
    }

    /// Why the check failed, naming the worst tensor, its error and the
    /// tolerance, and what to look at; nil when it passed.
    public var failure: GradientCheckFailure? {
        guard let worst = failing.first else { return nil }
        let others = failing.dropFirst().prefix(5).map(\.name)
        let more = failing.count > 6 ? ", ..." : ""
        return GradientCheckFailure(description: """
            gradient of \(worst.name) differs from central finite differences by \(String(format: "%.2e", worst.error)) (relative), \
            above the tolerance \(String(format: "%.0e", tolerance))\(others.isEmpty ? "" : "; also above it: " + others.joined(separator: ", ") + more). \
            The backward kernels that write it (and the VJPs of the ops between it and the loss) compute something other than the \
            derivative of the loss: check the VJP rules of that layer's ops, or, for C edited by hand, the edited backward kernels. \
            A tensor just above the tolerance with a tiny max |grad| may be finite-difference noise: rerun with another --seed.
            """, tensor: worst.name, error: worst.error, tolerance: tolerance)
    }
}

/// A gradient check above its tolerance; the description says which tensor and what to do.
public struct GradientCheckFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The worst tensor.
    public let tensor: String
    public let error: Double
    public let tolerance: Double
}
