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

    @Test func fusedGraphKeepsOutputsAndFoldsTheResidualAddAndReLUIntoTheBNBeforeThem() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4))
        let (fused, summary) = try Fusion.fuse(graph)
        #expect(Set(fused.outputs.keys) == Set(graph.outputs.keys))
        let residualAdds = graph.nodes.count { $0.op == .add && $0.label.hasSuffix("residual") }
        #expect(residualAdds > 0 && summary.batchNormAddReLU == residualAdds)
        #expect(!fused.nodes.contains { $0.op == .relu || ($0.op == .add && $0.label.hasSuffix("residual")) })
        for node in fused.nodes {
            guard case .batchNorm(let a) = node.op, a.fusedResidual else { continue }
            // y = max(bn2(x) + shortcut, 0): the residual is the block's shortcut, computed before.
            #expect(a.fusedReLU && node.label.hasSuffix("bn2"))
            let residual = node.operands[node.operands.count - (a.momentsOperand ? 2 : 1)]
            #expect(fused.shape(of: residual) == fused.shape(of: node.operands[0]))
        }
    }

    @Test func aReLUBackwardStaysOnlyWhereSomethingBesidesBNBackwardReadsIt() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.fmnistResNetMini.makeModel().trainingGraph(name: "w1", batch: 4))
        let (fused, _) = try Fusion.fuse(graph)
        let before = graph.nodes.count { $0.op == .reluBackward }
        let left = fused.nodes.filter { $0.op == .reluBackward }
        #expect(left.count < before)
        for node in left {
            let readers = fused.nodes.filter { $0.operands.contains(node.results[0]) }
            // e.g. layer1's identity shortcut: the gradient also goes straight to the block input.
            let otherReaders = readers.filter { reader -> Bool in
                if case .batchNormBackward = reader.op { return false }
                return true
            }
            #expect(!otherReaders.isEmpty, "\(node.label): only BN backward reads it")
        }
    }

    @Test func gradientSumsWithAConvolutionDxTermMoveIntoTheConvolution() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.fmnistResNetMini.makeModel().trainingGraph(name: "w1", batch: 4))
        let (fused, summary) = try Fusion.fuse(graph)
        func backwardAdds(_ g: Graph) -> Int { g.nodes.count { $0.op == .add && $0.phase == .backward } }
        // Each block input feeds conv1 and the shortcut, in both views.
        #expect(summary.accumulatedGradients == 6)
        #expect(backwardAdds(fused) == backwardAdds(graph) - summary.accumulatedGradients)
        let accumulating = fused.nodes.filter { node in
            if case .conv2dBackwardData(_, _, _, _, true) = node.op { return true }
            return false
        }
        // layer1: conv1's dx plus the identity shortcut's; layer2 and 3: the downsample's plus conv1's.
        #expect(accumulating.map(\.label).sorted() == ["backbone.layer1.0.conv1", "backbone.layer2.0.downsample.0", "backbone.layer3.0.downsample.0"].flatMap { [$0, $0] })
        #expect(accumulating.allSatisfy { $0.operands.count == 3 })
    }

    @Test func trainingBNsOfConvolutionsTakeTheirStatisticsFromTheConvolution() throws {
        let (graph, _) = try Autodiff.differentiate(try Workload.fmnistResNetMini.makeModel().trainingGraph(name: "w1", batch: 4))
        let (fused, summary) = try Fusion.fuse(graph)
        // Every backbone BN normalises a convolution's output (9 per view); the projector and
        // predictor BNs follow linear layers and keep their own reduction.
        #expect(summary.convolutionMoments == 18)
        var takers = 0
        for node in fused.nodes {
            guard case .batchNorm(let a) = node.op else { continue }
            let producer = fused.producer(of: node.operands[0])
            guard case .conv2d(_, _, let moments) = producer.op else {
                #expect(!a.momentsOperand, "\(node.label) reads statistics but normalises no convolution")
                continue
            }
            #expect(a.momentsOperand && moments, "\(node.label) still sums its own statistics")
            // The statistics operand is the convolution's second result, [2, C].
            #expect(node.operands.last == producer.results[1])
            #expect(fused.shape(of: producer.results[1]) == [2, fused.shape(of: node.operands[0])[1]])
            takers += 1
        }
        #expect(takers == summary.convolutionMoments)
    }

    /// The ImageNet stem's max-pool and a biased convolution pass through fusion as they are:
    /// the BN+ReLU before the pool still fuses (the pool's backward reads the fused output),
    /// and a BN after a bias does not take the convolution's moments, which lack the bias.
    @Test func poolsAndBiasesPassThroughAndKeepBNStatisticsHonest() throws {
        let model = Model()
        let stem = Conv2d(model, "stem", 1, 4, kernel: 7, stride: 2, padding: 3)
        let stemBN = BatchNorm(model, "stem_bn", 4)
        let biased = Conv2d(model, "biased", 4, 4, kernel: 3, padding: 1, bias: true)
        let biasedBN = BatchNorm(model, "biased_bn", 4)
        let g = GraphBuilder(name: "pool-bias", model: model, training: true)
        let pooled = stemBN(stem(g.input("x", [2, 1, 16, 16]))).relu().maxPool2d(kernel: 3, stride: 2, padding: 1, label: "pool")
        let y = biasedBN(biased(pooled)).globalAveragePool()
        g.output("loss", y.cosineSimilarity(g.input("t", [2, 4])).mean())
        let (graph, _) = try Autodiff.differentiate(try g.finish())
        let (fused, summary) = try Fusion.fuse(graph)
        for mnemonic in ["max_pool2d", "max_pool2d_bwd", "bias_add", "bias_add_bwd"] {
            #expect(fused.nodes.count { $0.op.mnemonic == mnemonic } == 1, "\(mnemonic) in the fused graph")
        }
        #expect(summary.batchNormReLU == 1 && summary.convolutionMoments == 1)
        let pool = try #require(fused.nodes.first { $0.op.mnemonic == "max_pool2d" })
        #expect(fused.producer(of: pool.operands[0]).op.mnemonic == "batch_norm_train_relu")
        let poolBackward = try #require(fused.nodes.first { $0.op.mnemonic == "max_pool2d_bwd" })
        #expect(poolBackward.operands[1] == pool.operands[0], "the pool's backward reads x, the fused BN+ReLU output")
        for node in fused.nodes {
            guard case .batchNorm(let a) = node.op, node.label == "biased_bn" else { continue }
            #expect(!a.momentsOperand && fused.producer(of: node.operands[0]).op == .channelBias)
        }
    }
}
