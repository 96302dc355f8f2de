import SimSiamIR

/// Builds the fused graph: copies nodes, emits fused ops, and maps every
/// value of the unfused graph to its value in the fused one.
struct FusionRewriter {
    let source: Graph
    private(set) var fused: Graph
    private var map: [ValueID: ValueID] = [:]
    var summary: FusionSummary
    /// BN node -> the batch statistics its convolution returns (``ConvolutionMomentsRule``).
    var moments: [Int: ValueID] = [:]

    init(_ graph: Graph) {
        source = graph
        fused = Graph(name: graph.name, state: graph.state)
        fused.inputs = graph.inputs
        summary = FusionSummary(nodesBefore: graph.computeNodeCount(.forward) + graph.computeNodeCount(.backward))
    }

    func mapped(_ values: [ValueID]) -> [ValueID] { values.map { map[$0]! } }

    /// Appends `op` with the label, origin and phase of source node `like`, and
    /// maps `replacing` (default: that node's results) to its results in order.
    @discardableResult
    mutating func append(_ op: Op, _ operands: [ValueID], like index: Int, replacing: [ValueID]? = nil) throws -> [ValueID] {
        let node = source.nodes[index]
        let (op, operands) = takingMoments(index, op, operands)
        let results = try fused.appendInferred(op, operands, label: node.label, origin: node.origin, phase: node.phase)
        zip(replacing ?? node.results, results).forEach { map[$0] = $1 }
        return results
    }

    /// Copies source node `index` unchanged (but for its BN statistics, see ``takingMoments(_:_:_:)``).
    mutating func copy(_ index: Int) throws {
        let node = source.nodes[index]
        try append(node.op, mapped(node.operands), like: index)
    }

    /// Makes `value` of the source graph stand for `fusedValue`.
    mutating func alias(_ value: ValueID, to fusedValue: ValueID) { map[value] = fusedValue }

    /// A training BN whose convolution sums its batch statistics reads them as an extra operand.
    private mutating func takingMoments(_ index: Int, _ op: Op, _ operands: [ValueID]) -> (Op, [ValueID]) {
        guard case .batchNorm(var attributes) = op, let statistics = moments[index] else { return (op, operands) }
        attributes.momentsOperand = true
        summary.convolutionMoments += 1
        return (.batchNorm(attributes), operands + [statistics])
    }

    mutating func finish() throws -> (Graph, FusionSummary) {
        fused.outputs = source.outputs.mapValues { map[$0]! }
        try Verifier.verify(fused)
        summary.nodesAfter = fused.computeNodeCount(.forward) + fused.computeNodeCount(.backward)
        return (fused, summary)
    }
}
