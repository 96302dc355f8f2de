import SimSiamIR

/// The unfused graph with its readers, and what the rules have claimed so far.
struct FusionMatches {
    let graph: Graph
    var nodes: [Node] { graph.nodes }
    /// The nodes reading each value; `Int.max` stands for a graph output.
    let consumers: [ValueID: [Int]]
    /// Nodes that a fused op replaces; they are not copied.
    private(set) var absorbed = Set<Int>()
    /// The fused op to emit in place of each anchor node.
    private(set) var rewrites: [Int: (inout FusionRewriter) throws -> Void] = [:]
    /// BN node -> the ReLU it absorbs (set by ``BatchNormReLURule``).
    var reluOf: [Int: Int] = [:]

    init(_ graph: Graph) {
        self.graph = graph
        var consumers: [ValueID: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for operand in node.operands { consumers[operand, default: []].append(index) }
        }
        for output in graph.outputs.values { consumers[output, default: []].append(Int.max) }
        self.consumers = consumers
    }

    /// The one node that reads `value`, if exactly one does and it is not a graph output.
    func onlyUser(_ value: ValueID) -> Int? {
        guard let users = consumers[value], users.count == 1, users[0] != Int.max else { return nil }
        return users[0]
    }

    /// The node that computes `value`.
    func producer(of value: ValueID) -> Int { graph.values[value.index].producer }

    /// Outputs of the BNs that absorbed their ReLU: the ReLU's result, as the backward pass sees it.
    var fusedReLUOutputs: Set<ValueID> { Set(reluOf.values.map { nodes[$0].results[0] }) }

    /// Emits `rewrite` where `anchor` was, and drops `replaced` from the copy.
    mutating func claim(anchor: Int, replacing replaced: [Int], _ rewrite: @escaping (inout FusionRewriter) throws -> Void) {
        precondition(rewrites[anchor] == nil, "two fusion rules claim node \(anchor) (\(nodes[anchor].op.mnemonic))")
        rewrites[anchor] = rewrite
        absorbed.formUnion(replaced)
    }
}
