/// The textual form of a graph (`simsiamc compile --print-ir`): the state
/// declarations, then one line per node with attributes, result shapes, layer
/// and DSL origin.
public enum Printer {
    public static func print(_ graph: Graph) -> String {
        var lines = ["graph \"\(graph.name)\" {"]
        for (index, group) in graph.state.groups.enumerated() {
            lines.append("  group #\(index) \(group)")
        }
        for (index, p) in graph.state.parameters.enumerated() {
            let trainable = p.isTrainable ? "group=\(graph.state.groups[p.group])" : "frozen"
            lines.append("  param #\(index) \(p.name) : \(p.shape) \(p.initializer) \(trainable)")
        }
        for (index, b) in graph.state.buffers.enumerated() {
            lines.append("  buffer #\(index) \(b.name) : \(b.shape)")
        }
        for (index, c) in graph.state.counters.enumerated() {
            lines.append("  counter #\(index) \(c.name) : int64")
        }
        for (index, input) in graph.inputs.enumerated() {
            lines.append("  input #\(index) \(input.name) : \(input.shape)")
        }
        var phase: Phase?
        for node in graph.nodes {
            if node.phase != phase {
                phase = node.phase
                lines.append("  // \(node.phase.rawValue)")
            }
            lines.append("  " + line(for: node, in: graph))
        }
        for (name, value) in graph.outputs.sorted(by: { $0.key < $1.key }) {
            lines.append("  output \(name) = \(value)")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One node as the printer shows it, e.g. `%5 = relu(%4) : [256,32,28,28]  // backbone.relu`.
    public static func line(for node: Node, in graph: Graph) -> String {
        let results = node.results.map(\.description).joined(separator: ", ")
        let operands = node.operands.map(\.description).joined(separator: ", ")
        let attributes = attributeText(node.op, graph: graph)
        let shapes = node.results.map { graph.shape(of: $0).description }.joined(separator: ", ")
        var text = results.isEmpty ? "" : "\(results) = "
        text += "\(node.op.mnemonic)(\(operands))"
        if !attributes.isEmpty { text += " {\(attributes)}" }
        if !shapes.isEmpty { text += " : \(shapes)" }
        var note = node.label.isEmpty ? "" : node.label
        if let origin = node.origin { note += note.isEmpty ? "\(origin)" : " @ \(origin)" }
        if !note.isEmpty { text += "  // \(note)" }
        return text
    }

    static func attributeText(_ op: Op, graph: Graph) -> String {
        switch op {
        case .input(let i): graph.inputs[i].name
        case .parameter(let i): graph.state.parameters[i].name
        case .fill(let value, _): "value=\(value)"
        case .conv2d(let stride, let padding, let moments): "stride=\(stride), padding=\(padding)\(moments ? ", +moments" : "")"
        case .batchNorm(let a):
            "eps=\(a.epsilon), momentum=\(a.momentum), affine=\(a.affine)\(a.fusedResidual ? ", +residual" : "")\(a.fusedReLU ? ", relu" : "")\(a.momentsOperand ? ", moments from x's convolution" : ""), running=\(graph.state.buffers[a.runningMean].name.dropLast("running_mean".count))*"
        case .scale(let factor): "factor=\(factor)"
        case .reshape(let shape): "shape=\(shape)"
        case .cosineSimilarity(let eps): "eps=\(eps)"
        case .conv2dBackwardData(let stride, let padding, let h, let w, let accumulates):
            "stride=\(stride), padding=\(padding), input=\(h)x\(w)\(accumulates ? ", +addend" : "")"
        case .conv2dBackwardWeight(let stride, let padding, let kernel): "stride=\(stride), padding=\(padding), kernel=\(kernel)"
        case .batchNormBackwardData(let affine): "affine=\(affine)"
        case .globalAveragePoolBackward(let h, let w): "input=\(h)x\(w)"
        case .maxPool2d(let k, let s, let p), .maxPool2dBackward(let k, let s, let p): "kernel=\(k), stride=\(s), padding=\(p)"
        case .cosineSimilarityBackward(let eps, _): "eps=\(eps)"
        case .accumulateGradient(let p): graph.state.parameters[p].name
        default: ""
        }
    }
}
