import SimSiamIR
import SimSiamPasses

/// Training outputs that no op computes: a parameter, a view of one, or an input,
/// returned as they are. `simsiam_read_output` runs after the step, when the
/// update has moved the parameters and the caller's input may be gone, so the
/// step copies these into workspace slots past the memory plan's, before the
/// update: an output is what the step used, as every computed output is.
struct OutputCopies {
    struct Copy {
        let name: String
        let value: ValueID
        let offset: Int
        let elements: Int
        /// The C name of the copy: `out_w` for output "w".
        let pointer: String
    }

    let copies: [Copy]
    /// Where the workspace ends with the copies.
    let end: Int

    init(graph: Graph, plan: MemoryPlan) {
        var cursor = plan.workspaceElements
        var taken: Set<String> = []
        copies = graph.outputs.filter { $0.key != "loss" }.sorted { $0.key < $1.key }.compactMap { name, value in
            if case .workspace = plan.resolved(value) { return nil }
            let elements = graph.shape(of: value).elementCount
            defer { cursor += ArenaLayout.aligned(elements) }
            var pointer = "out_" + cIdentifier(name)
            while !taken.insert(pointer).inserted { pointer += "_" }
            return Copy(name: name, value: value, offset: cursor, elements: elements, pointer: pointer)
        }
        end = cursor
    }

    func copy(of value: ValueID) -> Copy? { copies.first { $0.value == value } }

    func declarations(scalar: String) -> [String] {
        copies.map { "\(scalar)* const \($0.pointer) = ws + \($0.offset);  /* output \"\($0.name)\" \($0.value), copied before the update */" }
    }

    /// The step's copies, each from where the value lives (`P_head_w`, `input_x`).
    func statements(scalar: String, source: (ValueID) -> String) -> [String] {
        copies.map { "memcpy(\($0.pointer), \(source($0.value)), sizeof(\(scalar)) * \($0.elements));  /* output \"\($0.name)\" */" }
    }
}
