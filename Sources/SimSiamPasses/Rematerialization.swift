import SimSiamIR

/// What rematerialization changed, for the compile summary.
public struct RematerializationSummary: Hashable, Sendable {
    /// BN outputs recomputed in backward instead of kept from the forward.
    public var recomputed = 0
    /// Their elements: what no longer has to stay alive between the two passes.
    public var elements = 0
}

/// Trades a little arithmetic for memory: the output of a training BN + ReLU over a feature map
/// is recomputed from the BN's input and saved statistics just before backward first reads it,
/// so the forward's copy dies after its last forward reader.
///
/// It pays where the peak is: at the start of backward both views' activations are alive, and a
/// BN + ReLU output is as large as the convolution output it came from, which backward keeps
/// anyway (BN backward reads it). A residual block's last BN (+ add + ReLU) is left alone:
/// recomputing it would need the shortcut, itself a recomputed or kept tensor.
public enum Rematerialization {
    public static func apply(_ graph: Graph) throws -> (Graph, RematerializationSummary) {
        var summary = RematerializationSummary()
        var candidates: [ValueID: Int] = [:]  // BN output -> its node
        for (index, node) in graph.nodes.enumerated() {
            guard node.phase == .forward, case .batchNorm(let a) = node.op, a.training, a.affine, a.fusedReLU, !a.fusedResidual,
                  graph.shape(of: node.results[0]).rank == 4, !graph.outputs.values.contains(node.results[0])
            else { continue }
            candidates[node.results[0]] = index
        }
        var rebuilt = Graph(name: graph.name, state: graph.state)
        rebuilt.inputs = graph.inputs
        var map: [ValueID: ValueID] = [:]
        var recomputed: [ValueID: ValueID] = [:]  // forward BN output -> its backward copy
        for node in graph.nodes {
            var operands = node.operands.map { map[$0]! }
            if node.phase == .backward {
                for (position, operand) in node.operands.enumerated() {
                    guard let bn = candidates[operand] else { continue }
                    if recomputed[operand] == nil {
                        let source = graph.nodes[bn]
                        let inputs = [source.operands[0], source.results[1], source.operands[1], source.operands[2]].map { map[$0]! }
                        recomputed[operand] = try rebuilt.appendInferred(.batchNormRecompute(relu: true), inputs, label: source.label,
                                                                         origin: source.origin, phase: .backward)[0]
                        summary.recomputed += 1
                        summary.elements += graph.shape(of: operand).elementCount
                    }
                    operands[position] = recomputed[operand]!
                }
            }
            let results = try rebuilt.appendInferred(node.op, operands, label: node.label, origin: node.origin, phase: node.phase)
            zip(node.results, results).forEach { map[$0] = $1 }
        }
        rebuilt.outputs = graph.outputs.mapValues { map[$0]! }
        try Verifier.verify(rebuilt)
        return (rebuilt, summary)
    }
}
