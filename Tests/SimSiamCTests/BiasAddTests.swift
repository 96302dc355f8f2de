import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// bias_add (Conv2d's bias) against its closed form in both precisions and kernel
/// strategies: y = x + b[c], dx = dy, db[c] = the sum of dy over n, h, w.
@Suite(.serialized) struct BiasAddTests {
    static let x: Shape = [3, 4, 5, 2]

    /// loss = w . flatten(x + b) with the weights w a graph input; output "y".
    static func graph() throws -> Graph {
        let m = Model()
        let x = m.declareParameter("bias.x", Self.x, .uniformFanIn(fanIn: 1))
        let b = m.declareParameter("bias.b", [Self.x[1]], .uniformFanIn(fanIn: 1))
        let g = GraphBuilder(name: "bias-add", model: m, training: true)
        let y = g.parameter(x).addingChannelBias(g.parameter(b), label: "bias")
        let count = Self.x.elementCount
        let row = g.apply(.reshape([1, count]), [y], label: "bias.row", origin: SourceLocation(fileID: #fileID, line: #line))[0]
        g.output("loss", row.linear(g.input("w", [1, count]), label: "bias.weighted").mean())
        g.output("y", y)
        return try g.finish()
    }

    @Test(arguments: KernelStrategy.allCases)
    func matchesTheClosedForm(kernels: KernelStrategy) throws {
        for precision in [Precision.float32, .float64] {
            let lowered = try Lowering.lower(forward: try Self.graph(), features: nil,
                                             options: CodegenOptions(precision: precision, kernels: kernels))
            for name in ["bias_add_fwd__bias(", "bias_add_bwd__bias("] {
                #expect(lowered.generated.source.contains("static void " + name), "no kernel \(name)")
            }
            let state = ModelState(library: try Compiler.build(lowered, cache: quickTestCache).library)
            state.initialize(seed: 1)
            var random = TestRandom(seed: 31)
            let plane = Self.x[2] * Self.x[3], channels = Self.x[1]
            // Values exact in float, so both precisions see the same operands.
            let x = random.array(Self.x.elementCount).map { Double(Float($0)) }, b = random.array(channels).map { Double(Float($0)) }
            let w = random.array(Self.x.elementCount, -2, 2).map { Double(Float($0)) }
            try state.setTensor(named: "bias.x", HostTensor(shape: Self.x.dims, doubles: x))
            try state.setTensor(named: "bias.b", HostTensor(shape: [channels], doubles: b))
            _ = try state.lossAndGradients([w.map(Float.init)])

            let channel = { (index: Int) in index / plane % channels }
            let tolerance = precision == .float32 ? 1e-6 : 1e-13
            // Outputs come back as Float in either precision.
            let y = try state.output(named: "y").map(Double.init)
            #expect(relativeError(y, x.indices.map { x[$0] + b[channel($0)] }) < 1e-6, "\(precision), \(kernels): y")
            #expect(relativeError(try #require(state.gradient(named: "bias.x")).doubles, w) < tolerance, "\(precision), \(kernels): dx")
            var db = [Double](repeating: 0, count: channels)
            for (index, value) in w.enumerated() { db[channel(index)] += value }
            #expect(relativeError(try #require(state.gradient(named: "bias.b")).doubles, db) < tolerance, "\(precision), \(kernels): db")
        }
    }
}
