import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// max_pool2d against PyTorch's CPU semantics on inputs full of ties (small
/// integers), where finite differences say nothing: the forward takes the window
/// max with -inf padding, and the backward routes each dy to the first maximum
/// in row-major window order, as torch's `max_pool2d_with_indices` does.
@Suite(.serialized) struct MaxPoolTests {
    static let x: Shape = [2, 3, 7, 6]
    static let (kernel, stride, padding) = (3, 2, 1)

    /// loss = w . flatten(max_pool2d(x)) with the weights w a graph input, so every output
    /// has its own cotangent; output "y" is the pooled tensor.
    static func graph() throws -> Graph {
        let m = Model()
        let x = m.declareParameter("pool.x", Self.x, .uniformFanIn(fanIn: 1))
        let g = GraphBuilder(name: "max-pool", model: m, training: true)
        let y = g.parameter(x).maxPool2d(kernel: kernel, stride: stride, padding: padding, label: "pool")
        let count = y.shape.elementCount
        let weights = g.input("w", [1, count])
        let row = g.apply(.reshape([1, count]), [y], label: "pool.row", origin: SourceLocation(fileID: #fileID, line: #line))[0]
        g.output("loss", row.linear(weights, label: "pool.weighted").mean())
        g.output("y", y)
        return try g.finish()
    }

    /// PyTorch's scan written out: per output, the clipped window in row-major order, a
    /// strictly greater value (or NaN) takes over. Returns y and each output's argmax in x.
    static func reference(_ x: [Double]) -> (y: [Double], argmax: [Int]) {
        let (planes, h, w) = (Self.x[0] * Self.x[1], Self.x[2], Self.x[3])
        let p = (h + 2 * padding - kernel) / stride + 1, q = (w + 2 * padding - kernel) / stride + 1
        var y: [Double] = [], argmax: [Int] = []
        for plane in 0..<planes {
            for row in 0..<p {
                for column in 0..<q {
                    let (top, left) = (row * stride - padding, column * stride - padding)
                    var best = -Double.infinity, at = plane * h * w + max(top, 0) * w + max(left, 0)
                    for i in max(top, 0)..<min(top + kernel, h) {
                        for j in max(left, 0)..<min(left + kernel, w) where x[plane * h * w + i * w + j] > best {
                            best = x[plane * h * w + i * w + j]
                            at = plane * h * w + i * w + j
                        }
                    }
                    y.append(best)
                    argmax.append(at)
                }
            }
        }
        return (y, argmax)
    }

    @Test(arguments: KernelStrategy.allCases)
    func tiesGoToTheFirstMaximumInScanOrder(kernels: KernelStrategy) throws {
        for precision in [Precision.float32, .float64] {
            let lowered = try Lowering.lower(forward: try Self.graph(), features: nil,
                                             options: CodegenOptions(precision: precision, kernels: kernels))
            for name in ["max_pool2d_fwd__pool(", "max_pool2d_bwd__pool("] {
                #expect(lowered.generated.source.contains("static void " + name), "no kernel \(name)")
            }
            let compiled = try Compiler.build(lowered, cache: quickTestCache)
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 1)
            var random = TestRandom(seed: 29)
            // Values in {-2, -1, 0, 1}: most windows hold several equal maxima, some only negatives
            // (so the -inf padding must never win).
            let x = (0..<Self.x.elementCount).map { _ in (random.next() * 4).rounded(.down) - 2 }
            try state.setTensor(named: "pool.x", HostTensor(shape: Self.x.dims, doubles: x))
            let (expectedY, argmax) = Self.reference(x)
            let w = random.array(expectedY.count, -2, 2).map { Double(Float($0)) }

            _ = try state.lossAndGradients([w.map(Float.init)])
            let y = try state.output(named: "y").map(Double.init)
            #expect(y == expectedY, "\(precision), \(kernels): max_pool2d forward differs")
            var expectedDx = [Double](repeating: 0, count: x.count)
            for (output, index) in argmax.enumerated() { expectedDx[index] += w[output] }
            let dx = try #require(state.gradient(named: "pool.x")).doubles
            #expect(relativeError(dx, expectedDx) < (precision == .float32 ? 1e-6 : 1e-12),
                    "\(precision), \(kernels): dx is not routed to the first maximum of each window")
        }
    }
}
