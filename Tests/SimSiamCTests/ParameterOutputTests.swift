import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// Graph outputs with no op of their own: a parameter, a view of one, an input. Their
/// C once named `params` in `simsiam_read_output`, which does not bind it, and did not compile.
@Suite(.serialized) struct ParameterOutputTests {
    static let w: Shape = [2, 3]
    static let x: Shape = [4, 3]

    /// loss = mean(x @ w^T); outputs "w" (the parameter itself), "w_detached" and "x".
    static func graph() throws -> Graph {
        let m = Model()
        let w = m.declareParameter("head.w", Self.w, .uniformFanIn(fanIn: 3))
        let g = GraphBuilder(name: "parameter-output", model: m, training: true)
        let weight = g.parameter(w)
        let x = g.input("x", Self.x)
        g.output("loss", x.linear(weight, label: "head.linear").mean(label: "head.mean"))
        g.output("w", weight)
        g.output("w_detached", weight.stopGradient(label: "head.detach"))
        g.output("x", x)
        return try g.finish()
    }

    @Test(arguments: KernelStrategy.allCases)
    func outputsAreTheValuesTheStepUsed(kernels: KernelStrategy) throws {
        let lowered = try Lowering.lower(forward: try Self.graph(), features: nil, options: CodegenOptions(kernels: kernels))
        let state = ModelState(library: try Compiler.build(lowered, cache: quickTestCache).library)
        state.initialize(seed: 1)
        var random = TestRandom(seed: 7)
        let w = random.array(Self.w.elementCount).map { Float($0) }
        let x = random.array(Self.x.elementCount).map { Float($0) }
        try state.setTensor(named: "head.w", HostTensor(shape: Self.w.dims, doubles: w.map(Double.init)))
        _ = try state.trainStep(inputs: [x], groupLR: Array(repeating: 0.5, count: state.library.groupNames.count),
                                weightDecay: 0, momentum: 0)
        // The update moved the weight, so reading it after the step would differ from what the step
        // used; outputs are the step's values, as "z1" of a SimSiam step is.
        let updated = try #require(state.tensor(named: "head.w")).doubles.map { Float($0) }
        #expect(updated != w)
        #expect(try state.output(named: "w") == w, "\(kernels)")
        #expect(try state.output(named: "w_detached") == w, "\(kernels)")
        #expect(try state.output(named: "x") == x, "\(kernels)")
    }
}
