import SimSiamIR

/// What fusion did, for the compile summary.
public struct FusionSummary: Hashable, Sendable {
    /// BN ops that absorbed the ReLU after them (forward).
    public var batchNormReLU = 0
    /// Affine BN backward triples (dx, dgamma, dbeta) merged into one op sharing its reductions.
    public var batchNormBackward = 0
    /// Of those, how many also absorbed the ReLU backward before them.
    public var reluMasks = 0
    /// Compute nodes before and after.
    public var nodesBefore = 0, nodesAfter = 0
}

/// Fuses the memory-bound chains of a differentiated training graph, which
/// otherwise read and write every activation several times:
/// - forward: batch norm followed by ReLU (the ReLU's only input) becomes one op;
/// - backward: the three backward ops of an affine BN (dx, dgamma, dbeta) become
///   one op computing their two reductions once, and the ReLU backward feeding
///   them is folded in as a mask on the fly.
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

        // Forward: BN whose output only feeds a ReLU.
        var reluOf: [Int: Int] = [:]
        for (index, node) in nodes.enumerated() {
            guard case .batchNorm = node.op, let users = consumers[node.results[0]], users.count == 1, users[0] != Int.max,
                  nodes[users[0]].op == .relu else { continue }
            reluOf[index] = users[0]
        }
        let fusedOutputs = Set(reluOf.values.map { nodes[$0].results[0] })

        // Backward: (data, gamma, beta) of one affine BN, and the ReLU backward feeding only them.
        struct BackwardGroup { var data: Int, gamma: Int, beta: Int, reluBackward: Int? }
        var groupAt: [Int: BackwardGroup] = [:]
        var absorbed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case .batchNormBackwardData(affine: true) = node.op else { continue }
            let (dy, x, saved) = (node.operands[0], node.operands[1], node.operands[2])
            guard let gamma = nodes.indices.first(where: { nodes[$0].op == .batchNormBackwardGamma && nodes[$0].operands == [dy, x, saved] }),
                  // dbeta reads only dy, which a residual add shares between two BNs: match the layer too.
                  let beta = nodes.indices.first(where: {
                      nodes[$0].op == .batchNormBackwardBeta && nodes[$0].operands == [dy] && nodes[$0].label == node.label
                  })
            else { continue }
            var group = BackwardGroup(data: index, gamma: gamma, beta: beta, reluBackward: nil)
            let producer = graph.values[dy.index].producer
            if nodes[producer].op == .reluBackward, fusedOutputs.contains(nodes[producer].operands[1]),
               Set(consumers[dy] ?? []) == [index, gamma, beta] {
                group.reluBackward = producer
                absorbed.insert(producer)
            }
            groupAt[index] = group
            absorbed.formUnion([gamma, beta])
        }
        absorbed.formUnion(reluOf.values)

        var fused = Graph(name: graph.name, state: graph.state)
        fused.inputs = graph.inputs
        var map: [ValueID: ValueID] = [:]
        func mapped(_ values: [ValueID]) -> [ValueID] { values.map { map[$0]! } }
        for (index, node) in nodes.enumerated() where !absorbed.contains(index) {
            if let relu = reluOf[index], case .batchNorm(var attributes) = node.op {
                attributes.fusedReLU = true
                let results = try fused.appendInferred(.batchNorm(attributes), mapped(node.operands), label: node.label,
                                                       origin: node.origin, phase: node.phase)
                zip(node.results, results).forEach { map[$0] = $1 }
                map[nodes[relu].results[0]] = results[0]
                summary.batchNormReLU += 1
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
            } else {
                let results = try fused.appendInferred(node.op, mapped(node.operands), label: node.label, origin: node.origin,
                                                       phase: node.phase)
                zip(node.results, results).forEach { map[$0] = $1 }
            }
        }
        fused.outputs = graph.outputs.mapValues { map[$0]! }
        try Verifier.verify(fused)
        summary.nodesAfter = fused.computeNodeCount(.forward) + fused.computeNodeCount(.backward)
        return (fused, summary)
    }
}
