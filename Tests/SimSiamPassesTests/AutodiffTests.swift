import Testing
import SimSiamIR
import SimSiamDSL
@testable import SimSiamPasses

@Suite struct AutodiffTests {
    func differentiate(stopGradient: Bool = true) throws -> (Graph, AutodiffSummary) {
        var model = Workload.tiny.makeModel()
        model.stopGradient = stopGradient
        return try Autodiff.differentiate(try model.trainingGraph(name: "tiny", batch: 4))
    }

    func accumulated(_ graph: Graph) -> [String: Int] {
        graph.nodes.reduce(into: [:]) { counts, node in
            if case .accumulateGradient(let p) = node.op { counts[graph.state.parameters[p].name, default: 0] += 1 }
        }
    }

    @Test func everyTrainableParameterGetsAGradientFromBothViews() throws {
        let (graph, _) = try differentiate()
        let counts = accumulated(graph)
        for p in graph.state.parameters where p.isTrainable {
            #expect(counts[p.name] == 2, "\(p.name) accumulated \(counts[p.name] ?? 0) times")
        }
    }

    @Test func frozenParameterGetsNoBackwardOps() throws {
        let (graph, _) = try differentiate()
        #expect(accumulated(graph)["projector.6.bias"] == nil)
        #expect(!graph.nodes.contains { if case .linearBackwardBias = $0.op { $0.label == "projector.6" } else { false } })
    }

    @Test func stopGradientPrunesTheTargetBranch() throws {
        let (cut, summary) = try differentiate(stopGradient: true)
        let (uncut, uncutSummary) = try differentiate(stopGradient: false)
        #expect(summary.prunedByStopGradient > 0)
        #expect(uncutSummary.prunedByStopGradient == 0)
        #expect(uncutSummary.backwardOps == summary.backwardOps + summary.prunedByStopGradient)
        // With the cut, the cosine's gradient flows only into the prediction, never into the target.
        let targetGradients = cut.nodes.filter { if case .cosineSimilarityBackward(_, 1) = $0.op { true } else { false } }
        #expect(targetGradients.isEmpty)
        #expect(uncut.nodes.contains { if case .cosineSimilarityBackward(_, 1) = $0.op { true } else { false } })
    }

    @Test func backwardNodesCarryTheirForwardLayer() throws {
        let (graph, _) = try differentiate()
        let convBackward = graph.nodes.filter { if case .conv2dBackwardWeight = $0.op { true } else { false } }
        #expect(convBackward.allSatisfy { $0.phase == .backward && $0.label.hasPrefix("backbone.") && $0.origin != nil })
        // The first conv sees the input, which needs no gradient: no data-gradient op for it.
        #expect(!graph.nodes.contains { if case .conv2dBackwardData = $0.op { $0.label == "backbone.conv1" } else { false } })
    }

    @Test func lossMustBeAScalarOutput() throws {
        let graph = try Workload.tiny.makeModel().featureGraph(name: "f", batch: 2)
        #expect(throws: AutodiffError.self) { try Autodiff.differentiate(graph) }
    }
}
