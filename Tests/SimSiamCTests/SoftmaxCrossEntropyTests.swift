import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// softmax_cross_entropy against its closed form in both precisions and kernel strategies:
/// loss = mean_n (log sum_i exp(l_ni) - l_n,label_n), dl = (softmax(l) - onehot) / N.
@Suite(.serialized) struct SoftmaxCrossEntropyTests {
    static let logits: Shape = [5, 4]

    /// loss = softmax_cross_entropy(logits parameter, labels input).
    static func graph() throws -> Graph {
        let m = Model()
        let logits = m.declareParameter("ce.logits", Self.logits, .uniformFanIn(fanIn: 1))
        let g = GraphBuilder(name: "softmax-ce", model: m, training: true)
        let l = g.parameter(logits)
        g.output("loss", l.softmaxCrossEntropy(labels: g.input("labels", [Self.logits[0]]), label: "ce"))
        return try g.finish()
    }

    /// The closed form in double, log-sum-exp taken max-subtracted as the kernel should.
    static func expected(_ logits: [Double], _ labels: [Int], classes: Int) -> (loss: Double, gradient: [Double]) {
        let batch = labels.count
        var loss = 0.0, gradient = [Double](repeating: 0, count: logits.count)
        for n in 0..<batch {
            let row = Array(logits[(n * classes)..<((n + 1) * classes)])
            let top = row.max()!
            let sum = row.reduce(0) { $0 + exp($1 - top) }
            loss += top + log(sum) - row[labels[n]]
            for i in 0..<classes {
                gradient[n * classes + i] = (exp(row[i] - top) / sum - (i == labels[n] ? 1 : 0)) / Double(batch)
            }
        }
        return (loss / Double(batch), gradient)
    }

    @Test(arguments: KernelStrategy.allCases)
    func matchesTheClosedForm(kernels: KernelStrategy) throws {
        for precision in [Precision.float32, .float64] {
            let lowered = try Lowering.lower(forward: try Self.graph(), features: nil,
                                             options: CodegenOptions(precision: precision, kernels: kernels))
            for name in ["softmax_cross_entropy_fwd__ce(", "softmax_cross_entropy_bwd__ce("] {
                #expect(lowered.generated.source.contains("static void " + name), "no kernel \(name)")
            }
            let state = ModelState(library: try Compiler.build(lowered, cache: quickTestCache).library)
            state.initialize(seed: 1)
            var random = TestRandom(seed: 17)
            let classes = Self.logits[1]
            // Values exact in float; row 2 sits near 800, where exp overflows unless the row max is subtracted first.
            var logits = random.array(Self.logits.elementCount, -3, 3).map { Double(Float($0)) }
            for i in 0..<classes { logits[2 * classes + i] += 800 }
            let labels = [0, 3, 1, 1, 2]
            try state.setTensor(named: "ce.logits", HostTensor(shape: Self.logits.dims, doubles: logits))
            let loss = try state.lossAndGradients([labels.map(Float.init)])

            let (expectedLoss, expectedGradient) = Self.expected(logits, labels, classes: classes)
            let tolerance = precision == .float32 ? 1e-5 : 1e-12
            #expect(abs(loss - expectedLoss) / expectedLoss < tolerance, "\(precision), \(kernels): loss \(loss), expected \(expectedLoss)")
            let gradient = try #require(state.gradient(named: "ce.logits")).doubles
            #expect(relativeError(gradient, expectedGradient) < tolerance, "\(precision), \(kernels): dlogits")
            // Each row of the gradient sums to zero: softmax and the one-hot both sum to 1.
            for n in 0..<labels.count {
                #expect(abs(gradient[(n * classes)..<((n + 1) * classes)].reduce(0, +)) < 1e-6)
            }
        }
    }

    /// A label that is no class index (out of range, negative, fractional) gives a NaN loss,
    /// not a read past the row.
    @Test func aLabelOutsideTheClassesMakesTheLossNaN() throws {
        let lowered = try Lowering.lower(forward: try Self.graph(), features: nil, options: CodegenOptions(precision: .float32))
        let state = ModelState(library: try Compiler.build(lowered, cache: quickTestCache).library)
        state.initialize(seed: 1)
        #expect(try state.lossAndGradients([[0, 1, 2, 3, 0]]).isFinite)
        for bad: Float in [4, -1, 1.5] {
            #expect(try state.lossAndGradients([[0, 1, bad, 3, 0]]).isNaN, "label \(bad)")
        }
    }
}
