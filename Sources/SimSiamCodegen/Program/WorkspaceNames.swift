import SimSiamIR
import SimSiamPasses

/// Names for the workspace values an entry point passes, so a call reads
/// `conv2d_fwd__backbone_conv1(input_x1, P_backbone_conv1_weight, v3_backbone_conv1, v4_backbone_conv1)`
/// rather than `ws + 0, ws + 12845056`, and the `%3` of the IR comment beside it is in the name.
///
/// A name is `v` (a forward value) or `d` (a value of the backward pass, which computes only
/// gradients: of the loss with respect to a forward value or a parameter), the value's
/// number, then the layer of the op that made it. Each entry point declares the names it
/// uses as constant pointers into the workspace, in order of first use, so the C has no
/// unused variables.
struct WorkspaceNames {
    let graph: Graph
    let plan: MemoryPlan
    private var order: [ValueID] = []
    private var seen: Set<ValueID> = []
    /// The C parameter of the kernel that writes a value (`y`, `moments`, `dx`), for its declaration's comment.
    private var roles: [ValueID: String] = [:]

    init(graph: Graph, plan: MemoryPlan) {
        self.graph = graph
        self.plan = plan
    }

    /// The name of a value: unique within its graph, since it holds the value's number.
    static func name(of value: ValueID, in graph: Graph) -> String {
        let producer = graph.nodes[graph.values[value.index].producer]
        let recomputed = producer.op == .batchNormBackwardRecomputing && graph.values[value.index].resultIndex == 3
        let prefix = recomputed ? "r" : producer.phase == .backward ? "d" : "v"
        let layer = cIdentifier(producer.label).drop { $0 == "_" }
        return layer.isEmpty ? "\(prefix)\(value.index)" : "\(prefix)\(value.index)_\(layer)"
    }

    /// Records that the entry point passes `value`; values outside the workspace need no name.
    mutating func use(_ value: ValueID) {
        guard case .workspace = plan.resolved(value), seen.insert(value).inserted else { return }
        order.append(value)
    }

    /// Records what the kernel that writes `value` calls it.
    mutating func written(_ value: ValueID, as role: String) {
        roles[value] = role
    }

    var isEmpty: Bool { order.isEmpty }

    /// The same names and comments for another function of the same graph, none used yet.
    var unused: WorkspaceNames {
        var copy = self
        copy.order = []
        copy.seen = []
        return copy
    }

    /// One declaration a line, after a comment on why names may share memory.
    func declarations(scalar: String) -> [String] {
        guard !order.isEmpty else { return [] }
        let lines = order.map { value -> String in
            guard case .workspace(let offset) = plan.resolved(value) else { preconditionFailure("\(value) is not in the workspace") }
            let info = graph.values[value.index]
            let producer = graph.nodes[info.producer]
            var role = roles[value].map { " " + $0 } ?? ""
            if case .alias(let target) = plan.storage[value.index] { role = " of \(target), same memory" }
            return "\(scalar)* const \(Self.name(of: value, in: graph)) = ws + \(offset);  /* \(value) \(producer.op.mnemonic)\(role) \(info.shape) */"
        }
        return ["/* Workspace values: v forward, d gradient, r a forward value recomputed in backward;",
                "   then %N of the IR and the layer that made it.",
                "   Several names may share an offset, by design: a view (stop_gradient, reshape) is its",
                "   source's memory, and values never live at once reuse the same memory. */"] + lines
    }
}
