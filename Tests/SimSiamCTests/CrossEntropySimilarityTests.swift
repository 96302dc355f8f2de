import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// The cross-entropy similarity s_n = softmax(z_n) . log_softmax(p_n) of the
/// SimSiam paper's loss ablation: its forward against a direct Swift
/// computation, its VJP against central finite differences (double precision)
/// and against the closed form with logits large enough to overflow a naive
/// softmax (single precision), with both kernel strategies.
@Suite(.serialized) struct CrossEntropySimilarityTests {
    static let rows = 5, width = 7

    /// p, z [rows, width] are parameters; the loss is sum_n w_n s_n with the
    /// row weights w [1, rows] a graph input (s viewed as [1, rows] through a
    /// linear layer), so every row gets its own cotangent. Output "s" is the op's result.
    static func graph(stopGradientOnTarget: Bool = false) throws -> Graph {
        let m = Model()
        let p = m.declareParameter("ce.p", [rows, width], .uniformFanIn(fanIn: 1))
        let z = m.declareParameter("ce.z", [rows, width], .uniformFanIn(fanIn: 1))
        let g = GraphBuilder(name: "cross-entropy-similarity", model: m, training: true)
        let weights = g.input("w", [1, rows])
        let target = stopGradientOnTarget ? g.parameter(z).stopGradient() : g.parameter(z)
        let s = g.parameter(p).crossEntropySimilarity(target, label: "ce")
        let row = g.apply(.reshape([1, rows]), [s], label: "ce.row", origin: SourceLocation(fileID: #fileID, line: #line))[0]
        g.output("loss", row.linear(weights, label: "ce.weighted").mean())
        g.output("s", s)
        return try g.finish()
    }

    /// s per row, computed directly in double with max-subtracted log-sum-exps.
    static func similarity(_ p: [Double], _ z: [Double]) -> [Double] {
        (0..<rows).map { n in
            let pn = Array(p[n * width..<(n + 1) * width]), zn = Array(z[n * width..<(n + 1) * width])
            let logP = logSoftmax(pn), logQ = logSoftmax(zn)
            return zip(logQ, logP).map { exp($0) * $1 }.reduce(0, +)
        }
    }

    static func logSoftmax(_ x: [Double]) -> [Double] {
        let top = x.max()!
        let logSum = top + log(x.map { exp($0 - top) }.reduce(0, +))
        return x.map { $0 - logSum }
    }

    /// The closed-form gradients of sum_n w_n s_n: w_n (q - softmax(p)) and w_n q (log_softmax(p) - s).
    static func gradients(_ p: [Double], _ z: [Double], _ w: [Double]) -> (p: [Double], z: [Double]) {
        var dp: [Double] = [], dz: [Double] = []
        for n in 0..<rows {
            let logP = logSoftmax(Array(p[n * width..<(n + 1) * width]))
            let q = logSoftmax(Array(z[n * width..<(n + 1) * width])).map(exp)
            let s = zip(q, logP).map { $0 * $1 }.reduce(0, +)
            dp += zip(q, logP).map { w[n] * ($0 - exp($1)) }
            dz += zip(q, logP).map { w[n] * $0 * ($1 - s) }
        }
        return (dp, dz)
    }

    func compile(_ precision: Precision, _ kernels: KernelStrategy) throws -> (LoweredProgram, ModelState) {
        let lowered = try Lowering.lower(forward: try Self.graph(), features: nil,
                                         options: CodegenOptions(precision: precision, kernels: kernels))
        let compiled = try Compiler.build(lowered, cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 1)
        return (lowered, state)
    }

    func set(_ state: ModelState, _ name: String, _ values: [Double]) throws {
        try state.setTensor(named: name, HostTensor(shape: [Self.rows, Self.width], doubles: values))
    }

    @Test(arguments: KernelStrategy.allCases)
    func forwardMatchesSwiftAndVJPMatchesFiniteDifferences(kernels: KernelStrategy) throws {
        let (lowered, state) = try compile(.float64, kernels)
        // Fusion leaves the op alone: one forward kernel and one per operand gradient.
        for name in ["cross_entropy_similarity_fwd__ce(", "cross_entropy_similarity_bwd_p__ce(", "cross_entropy_similarity_bwd_z__ce("] {
            #expect(lowered.generated.source.contains("static inline void " + name), "no kernel \(name)")
        }
        var random = TestRandom(seed: 17)
        let p = random.array(Self.rows * Self.width, -3, 3), z = random.array(Self.rows * Self.width, -3, 3)
        let w = random.array(Self.rows, -2, 2).map(Float.init)
        try set(state, "ce.p", p)
        try set(state, "ce.z", z)

        let loss = try state.lossAndGradients([w])
        let expected = Self.similarity(p, z)
        let s = try state.output(named: "s").map(Double.init)
        #expect(relativeError(s, expected) < 1e-6, "s = \(s), expected \(expected)")
        let expectedLoss = zip(w, expected).map { Double($0) * $1 }.reduce(0, +)
        #expect(abs(loss - expectedLoss) < 1e-12 * max(1, abs(expectedLoss)), "loss \(loss), expected \(expectedLoss)")

        let errors = try FiniteDifferences.check(state, inputs: [w], probes: GradientProbes(elementsPerTensor: .max, directionsPerTensor: 0))
        #expect(errors.map(\.name).sorted() == ["ce.p", "ce.z"])
        for (name, error) in errors.map({ ($0.name, $0.error) }) {
            #expect(error < 1e-7, "gradient of \(name) differs from finite differences by \(error) (relative)")
        }
    }

    /// Rows of logits around +-1000 overflow a naive exp() even in double; the
    /// max-subtracted kernels stay finite and accurate in single precision.
    @Test(arguments: KernelStrategy.allCases)
    func largeLogitsStayFiniteInSinglePrecision(kernels: KernelStrategy) throws {
        let (_, state) = try compile(.float32, kernels)
        var random = TestRandom(seed: 23)
        // A large offset per row plus a spread of a few units, so both softmaxes are far
        // from one-hot; rounded to float first, so the reference sees exactly the kernel's operands.
        func logits() -> [Double] {
            (0..<Self.rows).flatMap { _ in
                let offset = random.next() < 0.5 ? -1000.0 : 1000.0
                return random.array(Self.width, -3, 3).map { Double(Float(offset + $0)) }
            }
        }
        let p = logits(), z = logits()
        let w = random.array(Self.rows, -2, 2).map(Float.init)
        try set(state, "ce.p", p)
        try set(state, "ce.z", z)

        let loss = try state.lossAndGradients([w])
        #expect(loss.isFinite)
        let s = try state.output(named: "s").map(Double.init)
        #expect(relativeError(s, Self.similarity(p, z)) < 1e-5, "s = \(s)")
        let expected = Self.gradients(p, z, w.map(Double.init))
        let dp = state.gradient(named: "ce.p")!.doubles, dz = state.gradient(named: "ce.z")!.doubles
        #expect(dp.allSatisfy(\.isFinite) && dz.allSatisfy(\.isFinite))
        #expect(relativeError(dp, expected.p) < 1e-5, "dp = \(dp), expected \(expected.p)")
        #expect(relativeError(dz, expected.z) < 1e-5, "dz = \(dz), expected \(expected.z)")
    }

    /// With the target detached, autodiff emits the prediction's gradient only.
    @Test func stopGradientOnTheTargetPrunesItsGradient() throws {
        func backwardOps(_ graph: Graph) throws -> [Op] {
            try Autodiff.differentiate(graph).0.nodes.map(\.op).filter {
                if case .crossEntropySimilarityBackward = $0 { true } else { false }
            }
        }
        let full = try backwardOps(Self.graph()), cut = try backwardOps(Self.graph(stopGradientOnTarget: true))
        #expect(full.count == 2 && Set(full) == [.crossEntropySimilarityBackward(wrt: 0), .crossEntropySimilarityBackward(wrt: 1)])
        #expect(cut == [.crossEntropySimilarityBackward(wrt: 0)])
        #expect(Printer.print(try Self.graph()).contains("= cross_entropy_similarity(%"))
    }
}
