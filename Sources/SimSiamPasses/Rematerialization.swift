import SimSiamIR

/// What rematerialization changed, for the compile summary.
public struct RematerializationSummary: Hashable, Sendable {
    /// BN outputs recomputed in backward instead of kept from the forward.
    public var recomputed = 0
    /// Their elements: what no longer has to stay alive between the two passes.
    public var elements = 0
}

/// Trades a little arithmetic for memory: the output y of a training BN + ReLU over a feature map
/// is not kept from the forward but computed again in backward, from the BN's input and saved
/// statistics, so the forward's copy dies after its last forward reader.
///
/// It pays where the peak is: at the start of backward both views' activations are alive, and a
/// BN + ReLU output is as large as the convolution output it came from, which backward keeps
/// anyway (BN backward reads it). A residual block's last BN (+ add + ReLU) is left alone:
/// recomputing it would need the shortcut, itself a recomputed or kept tensor.
///
/// The BN's own fused backward (`batchNormBackward(reluMask: true)`, which reads x anyway)
/// becomes `batchNormBackwardRecomputing`: y costs it one write instead of two reads of the kept
/// y, and no pass of its own. Backward readers of y that ran before it (the next convolution's
/// dw, and whatever reads their results before it) move to just after it. An output whose BN has
/// no fused backward, or whose fused backward depends on such a reader, is kept.
public enum Rematerialization {
    public static func apply(_ graph: Graph) throws -> (Graph, RematerializationSummary) {
        var backwardOf = fusedBackwards(graph)  // BN output y -> the fused backward that recomputes it
        var waiting = waitingNodes(graph, backwardOf)
        // A fused backward cannot wait for what waits for it: that output stays kept.
        while let (y, _) = backwardOf.first(where: { _, b in graph.nodes[b].operands.contains { waiting[graph.values[$0.index].producer] == b } }) {
            backwardOf[y] = nil
            waiting = waitingNodes(graph, backwardOf)
        }
        let recomputes = Dictionary(uniqueKeysWithValues: backwardOf.map { ($1, $0) })  // fused backward -> y

        var summary = RematerializationSummary()
        var rebuilt = Graph(name: graph.name, state: graph.state)
        rebuilt.inputs = graph.inputs
        var map: [ValueID: ValueID] = [:]
        var copies: [ValueID: ValueID] = [:]  // forward BN output -> its backward copy
        var deferred: [Int: [Int]] = [:]  // fused backward -> the nodes that wait for it

        func emit(_ index: Int) throws {
            let node = graph.nodes[index]
            if let y = recomputes[index] {
                let beta = graph.producer(of: y).operands[2]
                let results = try rebuilt.appendInferred(.batchNormBackwardRecomputing, (node.operands.prefix(4) + [beta]).map { map[$0]! },
                                                         label: node.label, origin: node.origin, phase: node.phase)
                zip(node.results, results).forEach { map[$0] = $1 }
                copies[y] = results[3]
                summary.recomputed += 1
                summary.elements += graph.shape(of: y).elementCount
                for waiting in deferred[index, default: []] { try emit(waiting) }
                return
            }
            let operands = node.operands.map { node.phase == .backward ? copies[$0] ?? map[$0]! : map[$0]! }
            let results = try rebuilt.appendInferred(node.op, operands, label: node.label, origin: node.origin, phase: node.phase)
            zip(node.results, results).forEach { map[$0] = $1 }
        }

        for index in graph.nodes.indices {
            if let backward = waiting[index] {
                deferred[backward, default: []].append(index)
            } else {
                try emit(index)
            }
        }
        rebuilt.outputs = graph.outputs.mapValues { map[$0]! }
        try Verifier.verify(rebuilt)
        return (rebuilt, summary)
    }

    /// The outputs y of training, affine BN + ReLUs over feature maps (not graph outputs), each
    /// with the fused backward of its BN: the node whose input is the BN's x and whose mask is y.
    private static func fusedBackwards(_ graph: Graph) -> [ValueID: Int] {
        var found: [ValueID: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            guard case .batchNormBackward(reluMask: true) = node.op, let y = node.operands.last else { continue }
            let bn = graph.producer(of: y)
            guard bn.phase == .forward, case .batchNorm(let a) = bn.op, a.training, a.affine, a.fusedReLU, !a.fusedResidual,
                  y == bn.results[0], node.operands[1] == bn.operands[0], graph.shape(of: y).rank == 4,
                  !graph.outputs.values.contains(y)
            else { continue }
            found[y] = index
        }
        return found
    }

    /// Backward nodes that must wait for a fused backward: those before it that read its y, and
    /// those before it that read what a waiting node produces. Node -> the fused backward.
    private static func waitingNodes(_ graph: Graph, _ backwardOf: [ValueID: Int]) -> [Int: Int] {
        let fused = Set(backwardOf.values)
        var waiting: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated() where node.phase == .backward && !fused.contains(index) {
            var until: Int?
            for operand in node.operands {
                if let wait = backwardOf[operand] ?? waiting[graph.values[operand.index].producer], wait > index {
                    until = max(until ?? wait, wait)
                }
            }
            if let until { waiting[index] = until }
        }
        return waiting
    }
}
