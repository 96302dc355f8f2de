import Foundation

/// What `KernelVerifier` found: one result per tensor a kernel call of the edited
/// C wrote, in execution order (training step, SGD update, eval-mode features).
public struct KernelVerification: @unchecked Sendable {
    public struct TensorResult: Sendable {
        /// Index of the trace point.
        public let index: Int
        public let point: TracePoint
        public let count: Int
        /// max |edited - generated| over the tensor, and the element where it is.
        public let difference: Double
        public let element: Int
        /// max |generated - float64| on the same inputs: the generated kernel's own rounding.
        public let rounding: Double
        /// max |float64| (or |generated| without a float64 truth).
        public let scale: Double
        public let allowed: Double

        public var passed: Bool { difference <= allowed }

        /// `FAIL  conv2d_fwd__backbone_conv1  %3 y [4,4,8,8]  max |edited - generated| 1.2e+00 at element 5 ...`
        public var line: String {
            let ratio = allowed > 0 ? String(format: "%.2g", difference / allowed) : (difference == 0 ? "0" : "inf")
            return String(format: "%@  %@  %@  |edited - generated| %.2e at element %d, allowed %.2e (%@ of it; float32 rounding %.2e, scale %.2e)",
                          passed ? "ok  " : "FAIL", point.kernel, point.tensor, difference, element, allowed, ratio, rounding, scale)
        }
    }

    public let program: EditedProgram
    public let results: [TensorResult]
    /// Trace points the generated C reached and the edited C did not (a removed TRACE_TENSOR or call).
    public let skippedPoints: [TracePoint]
    public let precision: String

    public var failures: [TensorResult] { results.filter { !$0.passed } }
    public var passed: Bool { failures.isEmpty && skippedPoints.isEmpty }

    /// Kernels with a departing tensor, in execution order, each once.
    public var failingKernels: [String] {
        var seen = Set<String>()
        return failures.map(\.point.kernel).filter { seen.insert($0).inserted }
    }

    /// The report `simsiamc verify` prints; `all` lists every tensor.
    public func report(all: Bool) -> String {
        let kernels = Set(results.map(\.point.kernel)).count
        var lines = [program.summary, "  clang:   \(program.edited.build.summary)",
                     "verify:  \(results.count) tensors written by \(kernels) kernels, each compared with the generated C's on the same inputs (replayed)"]
        if all {
            lines += results.map { "  " + $0.line }
        } else if !failures.isEmpty {
            lines += failures.prefix(20).map { "  " + $0.line }
            if failures.count > 20 { lines.append("  ... and \(failures.count - 20) more departing tensors (--all lists every tensor)") }
        } else if results.contains(where: { $0.difference > 0 }) {
            lines.append("  closest to the tolerance:")
            let ranked = results.filter { $0.difference > 0 }.sorted { $0.difference / max($0.allowed, .leastNonzeroMagnitude) > $1.difference / max($1.allowed, .leastNonzeroMagnitude) }
            lines += ranked.prefix(5).map { "  " + $0.line }
        }
        for point in skippedPoints.prefix(5) {
            lines.append("  MISSING  \(point.kernel)  \(point.tensor): the generated C writes it, the edited C never traced it")
        }
        if passed {
            let exact = results.count { $0.difference == 0 }
            lines.append("PASSED: every tensor within its tolerance (\(exact) of \(results.count) bit-identical to the generated C's)")
        } else if let first = failures.first {
            lines.append("FAILED: \(failures.count) tensors of \(failingKernels.count) kernels depart; the first in execution order is \(first.point.tensor) written by \(first.point.kernel) (\(first.point.origin)). Kernels after it were given the generated C's inputs, so each kernel named is wrong on its own: \(failingKernels.prefix(8).joined(separator: ", "))")
        } else {
            lines.append("FAILED: \(skippedPoints.count) tensors the generated C writes were never traced by the edited C; keep the entry points' TIMED_CALL and TRACE_TENSOR lines")
        }
        return lines.joined(separator: "\n")
    }
}
