import SimSiamIR

/// What fusion did, for the compile summary.
public struct FusionSummary: Hashable, Sendable {
    /// BN ops that absorbed the ReLU after them (forward).
    public var batchNormReLU = 0
    /// BN ops that absorbed a residual add and the ReLU after it (forward).
    public var batchNormAddReLU = 0
    /// Affine BN backward triples (dx, dgamma, dbeta) merged into one op sharing its reductions.
    public var batchNormBackward = 0
    /// Of those, how many also absorbed the ReLU backward before them.
    public var reluMasks = 0
    /// Gradient sums folded into the convolution dx that is one of their terms.
    public var accumulatedGradients = 0
    /// Training BNs whose batch statistics the convolution producing their input sums.
    public var convolutionMoments = 0
    /// Compute nodes before and after.
    public var nodesBefore = 0, nodesAfter = 0
}

/// Fuses the memory-bound chains of a differentiated training graph, which
/// otherwise read and write every activation several times:
/// - forward: batch norm followed by ReLU (the ReLU's only input) becomes one op,
///   and so does batch norm followed by a residual add and a ReLU;
/// - backward: the three backward ops of an affine BN (dx, dgamma, dbeta) become
///   one op computing their two reductions once, and the ReLU backward feeding
///   them is folded in as a mask on the fly (into both BNs below a residual add);
///   a gradient sum with a convolution's dx as a term becomes that convolution
///   adding the other term as it stores;
/// - a training BN of a convolution's output takes its batch statistics from that
///   convolution, which sums them per image while the image is in cache, so the
///   BN reads its input once instead of twice.
/// Values keep their meaning: the fused BN's output is the ReLU's output, which
/// is all the backward pass reads of it.
public enum Fusion {
    public static func fuse(_ graph: Graph) throws -> (Graph, FusionSummary) {
        let nodes = graph.nodes
        var consumers: [ValueID: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for operand in node.operands { consumers[operand, default: []].append(index) }
        }
        for output in graph.outputs.values { consumers[output, default: []].append(Int.max) }
        var summary = FusionSummary(nodesBefore: graph.computeNodeCount(.forward) + graph.computeNodeCount(.backward))

        func onlyUser(_ value: ValueID) -> Int? {
            guard let users = consumers[value], users.count == 1, users[0] != Int.max else { return nil }
            return users[0]
        }

        // Forward: BN whose output only feeds a ReLU, or only a residual add whose output only
        // feeds a ReLU. The latter is emitted where the add was, once the other branch exists.
        var reluOf: [Int: Int] = [:]
        var residualAt: [Int: (batchNorm: Int, residual: ValueID)] = [:]  // keyed by the add
        for (index, node) in nodes.enumerated() {
            guard case .batchNorm = node.op, let user = onlyUser(node.results[0]) else { continue }
            if nodes[user].op == .relu {
                reluOf[index] = user
                continue
            }
            let add = nodes[user]
            guard add.op == .add, residualAt[user] == nil, let relu = onlyUser(add.results[0]), nodes[relu].op == .relu,
                  let residual = add.operands.first(where: { $0 != node.results[0] })
            else { continue }
            reluOf[index] = relu
            residualAt[user] = (index, residual)
        }
        let fusedOutputs = Set(reluOf.values.map { nodes[$0].results[0] })

        // Backward: (data, gamma, beta) of one affine BN.
        struct BackwardGroup { var data: Int, gamma: Int, beta: Int, reluBackward: Int? }
        var groupAt: [Int: BackwardGroup] = [:]
        for (index, node) in nodes.enumerated() {
            guard case .batchNormBackwardData(affine: true) = node.op else { continue }
            let (dy, x, saved) = (node.operands[0], node.operands[1], node.operands[2])
            guard let gamma = nodes.indices.first(where: { nodes[$0].op == .batchNormBackwardGamma && nodes[$0].operands == [dy, x, saved] }),
                  // dbeta reads only dy, which a residual add shares between two BNs: match the layer too.
                  let beta = nodes.indices.first(where: {
                      nodes[$0].op == .batchNormBackwardBeta && nodes[$0].operands == [dy] && nodes[$0].label == node.label
                  })
            else { continue }
            groupAt[index] = BackwardGroup(data: index, gamma: gamma, beta: beta, reluBackward: nil)
        }
        // The ReLU backward feeding them is folded in as a mask when BN backward groups are all
        // that read its result (two of them below a residual add).
        var absorbed = Set<Int>()
        for index in groupAt.keys {
            let dy = nodes[index].operands[0]
            let producer = graph.values[dy.index].producer
            let readers = groupAt.values.filter { nodes[$0.data].operands[0] == dy }.flatMap { [$0.data, $0.gamma, $0.beta] }
            guard nodes[producer].op == .reluBackward, fusedOutputs.contains(nodes[producer].operands[1]),
                  Set(consumers[dy] ?? []) == Set(readers) else { continue }
            groupAt[index]?.reluBackward = producer
            absorbed.insert(producer)
        }
        for group in groupAt.values { absorbed.formUnion([group.gamma, group.beta]) }
        absorbed.formUnion(reluOf.values)
        absorbed.formUnion(residualAt.values.map(\.batchNorm))

        // Backward: a gradient sum whose one term is a convolution's dx read by nothing else: the
        // convolution adds the other term as it stores dx (e.g. a block input feeding conv1 and
        // the shortcut).
        var accumulateAt: [Int: (convolution: Int, addend: ValueID)] = [:]  // keyed by the add
        for (index, node) in nodes.enumerated() where node.op == .add && node.phase == .backward {
            for (position, operand) in node.operands.enumerated() {
                let producer = graph.values[operand.index].producer
                guard case .conv2dBackwardData(_, _, _, _, false) = nodes[producer].op, onlyUser(operand) == index,
                      node.operands[1 - position] != operand
                else { continue }
                accumulateAt[index] = (producer, node.operands[1 - position])
                absorbed.insert(producer)
                break
            }
        }

        // Forward: a convolution whose output a training BN normalises.
        var momentsFor: [Int: Int] = [:]  // convolution -> BN
        for (index, node) in nodes.enumerated() {
            guard case .batchNorm(let attributes) = node.op, attributes.training,
                  case .conv2d(_, _, false) = nodes[graph.values[node.operands[0].index].producer].op
            else { continue }
            momentsFor[graph.values[node.operands[0].index].producer] = index
        }
        var moments: [Int: ValueID] = [:]  // BN -> the statistics its convolution returns
        /// The op and operands of BN `index`, reading its statistics from its convolution when that sums them.
        func batchNormTakingMoments(_ index: Int, _ op: Op, _ operands: [ValueID]) -> (Op, [ValueID]) {
            guard case .batchNorm(var attributes) = op, let statistics = moments[index] else { return (op, operands) }
            attributes.momentsOperand = true
            summary.convolutionMoments += 1
            return (.batchNorm(attributes), operands + [statistics])
        }

        var fused = Graph(name: graph.name, state: graph.state)
        fused.inputs = graph.inputs
        var map: [ValueID: ValueID] = [:]
        func mapped(_ values: [ValueID]) -> [ValueID] { values.map { map[$0]! } }
        /// BN `index` with the ReLU after it, and the residual added before that ReLU if given.
        func appendBatchNormReLU(_ index: Int, residual: ValueID?) throws {
            let node = nodes[index]
            guard case .batchNorm(var attributes) = node.op, let relu = reluOf[index] else { return }
            attributes.fusedReLU = true
            attributes.fusedResidual = residual != nil
            let (op, operands) = batchNormTakingMoments(index, .batchNorm(attributes), mapped(node.operands + (residual.map { [$0] } ?? [])))
            let results = try fused.appendInferred(op, operands, label: node.label, origin: node.origin, phase: node.phase)
            zip(node.results, results).forEach { map[$0] = $1 }
            map[nodes[relu].results[0]] = results[0]
            if residual == nil { summary.batchNormReLU += 1 } else { summary.batchNormAddReLU += 1 }
        }
        for (index, node) in nodes.enumerated() where !absorbed.contains(index) {
            if let (convolution, addend) = accumulateAt[index],
               case .conv2dBackwardData(let stride, let padding, let height, let width, _) = nodes[convolution].op {
                let source = nodes[convolution]
                let results = try fused.appendInferred(
                    .conv2dBackwardData(stride: stride, padding: padding, inputHeight: height, inputWidth: width, accumulates: true),
                    mapped(source.operands + [addend]), label: source.label, origin: source.origin, phase: source.phase)
                map[node.results[0]] = results[0]
                summary.accumulatedGradients += 1
            } else if let (batchNorm, residual) = residualAt[index] {
                try appendBatchNormReLU(batchNorm, residual: residual)
            } else if reluOf[index] != nil {
                try appendBatchNormReLU(index, residual: nil)
            } else if let group = groupAt[index] {
                var operands = node.operands
                if let relu = group.reluBackward {
                    operands[0] = nodes[relu].operands[0]
                    operands.append(nodes[relu].operands[1])
                }
                let results = try fused.appendInferred(.batchNormBackward(reluMask: group.reluBackward != nil), mapped(operands),
                                                       label: node.label, origin: node.origin, phase: node.phase)
                map[node.results[0]] = results[0]
                map[nodes[group.gamma].results[0]] = results[1]
                map[nodes[group.beta].results[0]] = results[2]
                summary.batchNormBackward += 1
                summary.reluMasks += group.reluBackward == nil ? 0 : 1
            } else if let batchNorm = momentsFor[index], case .conv2d(let stride, let padding, _) = node.op {
                let results = try fused.appendInferred(.conv2d(stride: stride, padding: padding, moments: true), mapped(node.operands),
                                                       label: node.label, origin: node.origin, phase: node.phase)
                map[node.results[0]] = results[0]
                moments[batchNorm] = results[1]
            } else {
                let (op, operands) = batchNormTakingMoments(index, node.op, mapped(node.operands))
                let results = try fused.appendInferred(op, operands, label: node.label, origin: node.origin, phase: node.phase)
                zip(node.results, results).forEach { map[$0] = $1 }
            }
        }
        fused.outputs = graph.outputs.mapValues { map[$0]! }
        try Verifier.verify(fused)
        summary.nodesAfter = fused.computeNodeCount(.forward) + fused.computeNodeCount(.backward)
        return (fused, summary)
    }
}
