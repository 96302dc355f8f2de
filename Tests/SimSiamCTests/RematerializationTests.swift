import Foundation
import Testing
@testable import SimSiamC

/// BN + ReLU outputs recomputed in backward (`Rematerialization`): the same step, bit for bit,
/// with less memory alive at the peak.
@Suite struct RematerializationTests {
    static func fusedTraining(_ workload: Workload, batch: Int) throws -> Graph {
        let graphs = try workload.trace(.standard, batch: batch)
        return try Fusion.fuse(try Autodiff.differentiate(graphs.training).0).0
    }

    /// On W1 the stem's and each block's first BN + ReLU are recomputed, for both views, each by
    /// its own fused BN backward: every other backward reader of such an output reads that copy
    /// and runs after it, so the forward's copy dies in the forward. The peak of live workspace
    /// falls by most of what the copies free (the copies themselves live briefly in backward).
    @Test func w1RecomputesEachBlocksFirstBNReLUInItsBackwardAndItsPeakFalls() throws {
        let fused = try Self.fusedTraining(.fmnistResNetMini, batch: 32)
        let (graph, summary) = try Rematerialization.apply(fused)
        #expect(summary.recomputed == 8)
        #expect(summary.elements == 2 * 32 * (32 * 28 * 28 * 2 + 64 * 14 * 14 + 128 * 7 * 7))
        let recomputing = graph.nodes.indices.filter { graph.nodes[$0].op == .batchNormBackwardRecomputing }
        #expect(recomputing.count == 8)
        for index in recomputing {
            let node = graph.nodes[index]
            #expect(node.phase == .backward)
            // Its input and statistics are those of a forward BN + ReLU of the same layer.
            let forward = graph.producer(of: node.operands[2])
            guard case .batchNorm(let a) = forward.op else { Issue.record("\(node.label): statistics from \(forward.op.mnemonic)"); continue }
            #expect(a.fusedReLU && !a.fusedResidual && forward.label == node.label && forward.operands[0] == node.operands[1])
            #expect(node.operands[4] == forward.operands[2], "\(node.label): beta")
            // That BN's own output is read by nothing in backward any more; the copy is, after it.
            let kept = forward.results[0], copy = node.results[3]
            #expect(!graph.nodes.contains { $0.phase == .backward && $0.operands.contains(kept) }, "\(node.label)")
            let readers = graph.nodes.indices.filter { graph.nodes[$0].operands.contains(copy) }
            #expect(!readers.isEmpty && readers.allSatisfy { $0 > index }, "\(node.label): the copy's readers \(readers)")
            #expect(readers.contains { if case .conv2dBackwardWeight = graph.nodes[$0].op { true } else { false } }, "\(node.label)")
        }
        let before = MemoryPlan.plan(fused), after = MemoryPlan.plan(graph)
        let freed = before.peakLiveElements - after.peakLiveElements
        print("W1 at batch 32: peak live \(before.peakLiveElements) -> \(after.peakLiveElements) elements (recomputed \(summary.elements)); workspace \(before.workspaceElements) -> \(after.workspaceElements)")
        #expect(Double(freed) >= 0.75 * Double(summary.elements))
        #expect(after.workspaceElements < before.workspaceElements)
    }

    /// Two steps with recomputation equal the steps that keep the outputs, bit for bit, in float32
    /// and float64: the copy is made with the forward's arithmetic from the statistics as saved.
    /// tiny's maps are too small for the vectorized reductions (under 8 pixels), W1's are not.
    @Test(arguments: ["tiny", "fmnist-resnet-mini"], [Precision.float32, .float64])
    func recomputingChangesNoBitOfTheStep(_ name: String, precision: Precision) throws {
        let workload = try #require(Workload.all.first { $0.name == name })
        func step(recompute: Bool) throws -> (loss: Double, tensors: [String: HostTensor], summary: String) {
            let options = CodegenOptions(precision: precision, recomputeActivations: recompute)
            let compiled = try Compiler.compile(workload, batch: 4, options: options, cache: quickTestCache)
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 3)
            var random = TestRandom(seed: 11)
            let count = compiled.lowered.training.inputs[0].shape.elementCount
            let inputs = (0..<2).map { _ in random.array(count).map { Float($0) } }
            var loss = 0.0
            let groups = Array(repeating: 0.05, count: state.library.groupNames.count)
            for _ in 0..<2 { loss = try state.trainStep(inputs: inputs, groupLR: groups, weightDecay: 5e-4, momentum: 0.9) }
            return (loss, Dictionary(uniqueKeysWithValues: state.exportTensors(includeGradients: true).map { ($0.name, $0.tensor) }), compiled.summary)
        }
        let recomputed = try step(recompute: true), kept = try step(recompute: false)
        #expect(recomputed.summary.contains("BN+ReLU outputs recomputed by their BN backward"))
        #expect(!kept.summary.contains("recomputed"))
        #expect(recomputed.loss == kept.loss)
        #expect(recomputed.tensors.count == kept.tensors.count && recomputed.tensors.count > 40)
        #expect(recomputed.loss.isFinite)
        for (tensorName, tensor) in kept.tensors {
            let other = try #require(recomputed.tensors[tensorName]).doubles
            let differences = zip(other, tensor.doubles).filter { $0 != $1 }
            #expect(other.count == tensor.count && differences.isEmpty,
                    "\(workload.name) \(precision): \(tensorName) differs in \(differences.count) elements, by up to \(differences.map { abs($0 - $1) }.max() ?? 0)")
        }
    }
}
