import SimSiamIR

/// Forward: a BN whose output only a ReLU reads becomes one BN+ReLU op; a BN
/// whose output only a residual add reads, whose output only a ReLU reads,
/// becomes one BN+add+ReLU op, emitted where the add was (once the other
/// branch exists).
struct BatchNormReLURule: FusionRule {
    func match(_ matches: inout FusionMatches) {
        var residualAdds = Set<Int>()
        for (index, node) in matches.nodes.enumerated() {
            guard case .batchNorm = node.op, let user = matches.onlyUser(node.results[0]) else { continue }
            if matches.nodes[user].op == .relu {
                matches.reluOf[index] = user
                matches.claim(anchor: index, replacing: [user]) { try Self.emit(batchNorm: index, relu: user, residual: nil, &$0) }
                continue
            }
            let add = matches.nodes[user]
            guard add.op == .add, !residualAdds.contains(user), let relu = matches.onlyUser(add.results[0]),
                  matches.nodes[relu].op == .relu, let residual = add.operands.first(where: { $0 != node.results[0] })
            else { continue }
            residualAdds.insert(user)
            matches.reluOf[index] = relu
            matches.claim(anchor: user, replacing: [index, relu]) { try Self.emit(batchNorm: index, relu: relu, residual: residual, &$0) }
        }
    }

    static func emit(batchNorm index: Int, relu: Int, residual: ValueID?, _ rewriter: inout FusionRewriter) throws {
        let node = rewriter.source.nodes[index]
        guard case .batchNorm(var attributes) = node.op else { return }
        attributes.fusedReLU = true
        attributes.fusedResidual = residual != nil
        let results = try rewriter.append(.batchNorm(attributes), rewriter.mapped(node.operands + (residual.map { [$0] } ?? [])), like: index)
        rewriter.alias(rewriter.source.nodes[relu].results[0], to: results[0])
        if residual == nil { rewriter.summary.batchNormReLU += 1 } else { rewriter.summary.batchNormAddReLU += 1 }
    }
}

/// Backward: the three backward ops of an affine BN (dx, dgamma, dbeta) become
/// one op computing their two reductions once. The ReLU backward feeding them
/// is folded in as a mask when BN backward ops are all that read its result
/// (two BNs below a residual add), and the ReLU was fused into its BN forward,
/// whose output the mask reads.
struct BatchNormBackwardRule: FusionRule {
    struct Triple { var data: Int, gamma: Int, beta: Int }

    func match(_ matches: inout FusionMatches) {
        let nodes = matches.nodes
        var triples: [Int: Triple] = [:]
        for (index, node) in nodes.enumerated() {
            guard case .batchNormBackwardData(affine: true) = node.op else { continue }
            let (dy, x, saved) = (node.operands[0], node.operands[1], node.operands[2])
            guard let gamma = nodes.indices.first(where: { nodes[$0].op == .batchNormBackwardGamma && nodes[$0].operands == [dy, x, saved] }),
                  // dbeta reads only dy, which a residual add shares between two BNs: match the layer too.
                  let beta = nodes.indices.first(where: {
                      nodes[$0].op == .batchNormBackwardBeta && nodes[$0].operands == [dy] && nodes[$0].label == node.label
                  })
            else { continue }
            triples[index] = Triple(data: index, gamma: gamma, beta: beta)
        }
        let fusedOutputs = matches.fusedReLUOutputs
        for (index, triple) in triples {
            let dy = nodes[index].operands[0]
            let producer = matches.producer(of: dy)
            let readers = triples.values.filter { nodes[$0.data].operands[0] == dy }.flatMap { [$0.data, $0.gamma, $0.beta] }
            let masked = nodes[producer].op == .reluBackward && fusedOutputs.contains(nodes[producer].operands[1])
                && Set(matches.consumers[dy] ?? []) == Set(readers)
            let relu = masked ? producer : nil
            matches.claim(anchor: index, replacing: [triple.gamma, triple.beta] + (relu.map { [$0] } ?? [])) {
                try Self.emit(triple, reluBackward: relu, &$0)
            }
        }
    }

    static func emit(_ triple: Triple, reluBackward relu: Int?, _ rewriter: inout FusionRewriter) throws {
        let nodes = rewriter.source.nodes
        var operands = nodes[triple.data].operands
        if let relu {
            operands[0] = nodes[relu].operands[0]
            operands.append(nodes[relu].operands[1])
        }
        try rewriter.append(.batchNormBackward(reluMask: relu != nil), rewriter.mapped(operands), like: triple.data,
                            replacing: [triple.data, triple.gamma, triple.beta].map { nodes[$0].results[0] })
        rewriter.summary.batchNormBackward += 1
        rewriter.summary.reluMasks += relu == nil ? 0 : 1
    }
}

/// Backward: a gradient sum whose one term is a convolution's dx read by
/// nothing else becomes that convolution adding the other term as it stores
/// dx (e.g. a block input feeding conv1 and the shortcut).
struct AccumulatedGradientRule: FusionRule {
    func match(_ matches: inout FusionMatches) {
        for (index, node) in matches.nodes.enumerated() where node.op == .add && node.phase == .backward {
            for (position, operand) in node.operands.enumerated() {
                let convolution = matches.producer(of: operand)
                guard case .conv2dBackwardData(_, _, _, _, false) = matches.nodes[convolution].op, matches.onlyUser(operand) == index,
                      node.operands[1 - position] != operand
                else { continue }
                let addend = node.operands[1 - position]
                matches.claim(anchor: index, replacing: [convolution]) { try Self.emit(sum: index, convolution: convolution, addend: addend, &$0) }
                break
            }
        }
    }

    static func emit(sum index: Int, convolution: Int, addend: ValueID, _ rewriter: inout FusionRewriter) throws {
        let source = rewriter.source.nodes[convolution]
        guard case .conv2dBackwardData(let stride, let padding, let height, let width, _) = source.op else { return }
        try rewriter.append(.conv2dBackwardData(stride: stride, padding: padding, inputHeight: height, inputWidth: width, accumulates: true),
                            rewriter.mapped(source.operands + [addend]), like: convolution,
                            replacing: [rewriter.source.nodes[index].results[0]])
        rewriter.summary.accumulatedGradients += 1
    }
}

/// Forward: a training BN of a convolution's output takes its batch
/// statistics from that convolution, which sums them per image while the
/// image is in cache, so the BN reads its input once instead of twice. The BN
/// side is in ``FusionRewriter``: every BN it emits reads the statistics its
/// convolution returned.
struct ConvolutionMomentsRule: FusionRule {
    func match(_ matches: inout FusionMatches) {
        var batchNormOf: [Int: Int] = [:]  // convolution -> BN; the last BN wins, as one convolution feeds one BN
        for (index, node) in matches.nodes.enumerated() {
            guard case .batchNorm(let attributes) = node.op, attributes.training,
                  case .conv2d(_, _, false) = matches.nodes[matches.producer(of: node.operands[0])].op
            else { continue }
            batchNormOf[matches.producer(of: node.operands[0])] = index
        }
        for (convolution, batchNorm) in batchNormOf {
            matches.claim(anchor: convolution, replacing: []) { rewriter in
                let node = rewriter.source.nodes[convolution]
                guard case .conv2d(let stride, let padding, _) = node.op else { return }
                let results = try rewriter.append(.conv2d(stride: stride, padding: padding, moments: true), rewriter.mapped(node.operands),
                                                  like: convolution, replacing: [node.results[0]])
                rewriter.moments[batchNorm] = results[1]
            }
        }
    }
}
