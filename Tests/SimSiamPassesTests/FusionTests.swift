import Testing
import SimSiamIR
import SimSiamDSL
@testable import SimSiamPasses

@Suite struct FusionTests {
    @Test func mergesBNReLUAndEveryAffineBackwardTriple() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.fmnistResNetMini.makeModel().trainingGraph(name: "w1", batch: 4))
        let (fused, summary) = try Fusion.fuse(graph)
        let affineApplications = graph.nodes.count { if case .batchNorm(let a) = $0.op { a.affine } else { false } }
        #expect(summary.batchNormBackward == affineApplications)
        #expect(!fused.nodes.contains { $0.op == .batchNormBackwardGamma || $0.op == .batchNormBackwardBeta })
        #expect(summary.batchNormReLU > 0 && summary.reluMasks > 0 && summary.nodesAfter < summary.nodesBefore)
        // Each BN gamma's gradient still comes from its own layer, also where a residual add
        // hands the same dy to bn2 and the downsample BN.
        for node in fused.nodes {
            guard case .accumulateGradient(let p) = node.op else { continue }
            let name = fused.state.parameters[p].name
            let producer = fused.producer(of: node.operands[0])
            if case .batchNormBackward = producer.op {
                #expect(name.hasPrefix(producer.label + "."), "\(name) accumulates the gradient of \(producer.label)")
            }
        }
    }

    @Test func fusedGraphKeepsOutputsAndReLUsThatFeedAnAdd() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4))
        let (fused, _) = try Fusion.fuse(graph)
        #expect(Set(fused.outputs.keys) == Set(graph.outputs.keys))
        // relu2 follows the residual add, not a BN: it stays a ReLU.
        #expect(fused.nodes.contains { $0.op == .relu && $0.label.hasSuffix("relu2") })
        #expect(!fused.nodes.contains { $0.op == .relu && $0.label.hasSuffix("relu1") })
    }
}
