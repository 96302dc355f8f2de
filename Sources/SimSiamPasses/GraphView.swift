import SimSiamIR

/// A training step as Graphviz DOT (`compile --graph-view FILE`): the graph
/// that runs (fused, when the kernels are tuned) with forward and backward ops
/// in two colours, each fused op marked with what it absorbed, and, in a
/// cluster of their own, the backward ops a stop-gradient pruned: those that
/// differentiating with the stop-gradients as identities adds. Parameters are
/// left out (every op would grow an edge from one); their names are on the ops.
public enum GraphView {
    public static func dot(forward: Graph, executed: Graph) throws -> String {
        let pruned = try prunedBackward(forward)
        var lines = ["digraph \"\(escape(forward.name))\" {",
                     "  rankdir=TB; node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];",
                     "  // forward: blue; backward: orange; bold red border: a fused op; dashed grey: pruned by stop-gradient"]
        var shown = Set<ValueID>()
        for (index, node) in executed.nodes.enumerated() {
            if case .parameter = node.op { continue }
            let fused = fusionNote(node.op)
            var attributes = ["label=\"\(escape(caption(node, in: executed, extra: fused)))\"",
                              "fillcolor=\"\(node.phase == .forward ? "#dbe8f7" : "#fbe3c8")\""]
            if fused != nil { attributes += ["color=\"#c0392b\"", "penwidth=2.5"] }
            if case .stopGradient = node.op { attributes += ["shape=octagon", "fillcolor=\"#f4cccc\""] }
            lines.append("  n\(index) [\(attributes.joined(separator: ", "))];")
            node.results.forEach { shown.insert($0) }
            for operand in node.operands where shown.contains(operand) {
                lines.append("  n\(executed.values[operand.index].producer) -> n\(index);")
            }
        }
        lines.append("  subgraph cluster_pruned {")
        lines.append("    label=\"\(pruned.nodes.count) backward ops pruned by stop-gradient\"; style=dashed; color=\"#888888\";")
        for index in pruned.nodes {
            let node = pruned.graph.nodes[index]
            lines.append("    p\(index) [label=\"\(escape(caption(node, in: pruned.graph, extra: nil)))\", style=\"rounded,dashed\", color=\"#888888\", fontcolor=\"#666666\"];")
            for operand in node.operands where pruned.nodes.contains(pruned.graph.values[operand.index].producer) {
                lines.append("    p\(pruned.graph.values[operand.index].producer) -> p\(index) [style=dashed, color=\"#888888\"];")
            }
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The backward ops of `forward` differentiated with every stop-gradient as
    /// the identity that the real differentiation does not emit, matched by op
    /// and layer (both walks emit in the same order).
    static func prunedBackward(_ forward: Graph) throws -> (graph: Graph, nodes: Set<Int>) {
        let loss = try lossValue(forward)
        var cut = forward, whole = forward
        try Autodiff.appendBackward(to: &cut, loss: loss, stopGradientIsIdentity: false)
        try Autodiff.appendBackward(to: &whole, loss: loss, stopGradientIsIdentity: true)
        var kept: [String: Int] = [:]
        for node in cut.nodes where node.phase == .backward { kept[key(node), default: 0] += 1 }
        var pruned = Set<Int>()
        for (index, node) in whole.nodes.enumerated() where node.phase == .backward {
            if let count = kept[key(node)], count > 0 { kept[key(node)] = count - 1 } else { pruned.insert(index) }
        }
        return (whole, pruned)
    }

    private static func lossValue(_ forward: Graph) throws -> ValueID {
        guard let loss = forward.outputs["loss"] else {
            throw AutodiffError(message: "the graph has no output \"loss\"; outputs: \(forward.outputs.keys.sorted())")
        }
        return loss
    }

    private static func key(_ node: Node) -> String { node.op.mnemonic + "|" + node.label }

    /// What a fused op took in, or nil for an op the fusion pass did not make.
    static func fusionNote(_ op: Op) -> String? {
        switch op {
        case .batchNorm(let a) where a.fusedResidual: "fused: BN + residual add + ReLU" + (a.momentsOperand ? ", statistics from the conv" : "")
        case .batchNorm(let a) where a.fusedReLU: "fused: BN + ReLU" + (a.momentsOperand ? ", statistics from the conv" : "")
        case .batchNorm(let a) where a.momentsOperand: "fused: statistics from the conv"
        case .conv2d(_, _, true): "fused: BN statistics summed here"
        case .conv2dBackwardData(_, _, _, _, true): "fused: + the other gradient term"
        case .batchNormBackward(let mask): "fused: BN backward dx, dgamma, dbeta" + (mask ? " + ReLU mask" : "")
        case .batchNormBackwardRecomputing: "fused: BN backward dx, dgamma, dbeta + ReLU mask; recomputes the forward's output, not kept"
        default: nil
        }
    }

    private static func caption(_ node: Node, in graph: Graph, extra: String?) -> String {
        let shapes = node.results.map { graph.shape(of: $0).description }.joined(separator: ", ")
        let parameters = node.operands.compactMap { operand -> String? in
            guard case .parameter(let index) = graph.producer(of: operand).op else { return nil }
            return graph.state.parameters[index].name
        }
        var parts = [node.op.mnemonic, node.label, shapes]
        if case .accumulateGradient(let index) = node.op { parts.append("into " + graph.state.parameters[index].name) }
        if !parameters.isEmpty { parts.append(parameters.joined(separator: ", ")) }
        if let extra { parts.append(extra) }
        return parts.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
