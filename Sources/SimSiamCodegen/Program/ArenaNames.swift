import SimSiamIR
import SimSiamPasses

/// Names for where each state tensor lives, so the C says which tensor a call
/// reads (`P_backbone_conv1_weight`) rather than where (`params + 0`).
///
/// Each name is one `#define` of a pointer into an arena, after the
/// PyTorch state_dict name: `P_` the parameter, `G_` its gradient slot (same
/// offset in `grads`), `B_` a BN running statistic, `NBT_` a
/// `num_batches_tracked` counter. The defines use the arena pointers every
/// entry point binds first (`params`, `grads`, `buffers`, `counters`). The
/// symbol table keeps the offsets for the runtime; these are for readers.
struct ArenaNames {
    let state: StateDecls
    let layout: ArenaLayout
    private let parameterNames: [String]
    private let bufferNames: [String]
    private let counterNames: [String]

    init(state: StateDecls, layout: ArenaLayout) {
        self.state = state
        self.layout = layout
        parameterNames = Self.unique(state.parameters.map { cIdentifier($0.name) })
        bufferNames = Self.unique(state.buffers.map { cIdentifier($0.name) })
        counterNames = Self.unique(state.counters.map { cIdentifier($0.name) })
    }

    func parameter(_ index: Int) -> String { "P_" + parameterNames[index] }
    func gradient(_ index: Int) -> String { "G_" + parameterNames[index] }
    func buffer(_ index: Int) -> String { "B_" + bufferNames[index] }
    func counter(_ index: Int) -> String { "NBT_" + counterNames[index] }

    /// The defines, one a line with the tensor's shape and state_dict name.
    var source: String {
        var lines = ["/* ===== Arena layout: state tensors by name =====",
                     "   Pointers into the arenas the entry points bind (params, grads, buffers, counters).",
                     "   P_ is a parameter and G_ its gradient, at the same offset of grads; B_ is a BN",
                     "   running statistic, NBT_ a BN's num_batches_tracked. */"]
        for (index, p) in state.parameters.enumerated() {
            lines.append("#define \(parameter(index)) (params + \(layout.parameterOffsets[index]))  /* \(p.shape) \(p.name)\(p.isTrainable ? "" : ", frozen") */")
        }
        for (index, p) in state.parameters.enumerated() where p.isTrainable {
            lines.append("#define \(gradient(index)) (grads + \(layout.parameterOffsets[index]))")
        }
        for (index, b) in state.buffers.enumerated() {
            lines.append("#define \(buffer(index)) (buffers + \(layout.bufferOffsets[index]))  /* \(b.shape) \(b.name) */")
        }
        for (index, c) in state.counters.enumerated() {
            lines.append("#define \(counter(index)) (counters + \(index))  /* \(c.name) */")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Identifiers made unique: `a.b` and `a_b` would both be `a_b`; the second gets `_2`.
    private static func unique(_ names: [String]) -> [String] {
        var taken: Set<String> = []
        return names.map { name in
            var candidate = name
            var suffix = 2
            while !taken.insert(candidate).inserted {
                candidate = "\(name)_\(suffix)"
                suffix += 1
            }
            return candidate
        }
    }
}
