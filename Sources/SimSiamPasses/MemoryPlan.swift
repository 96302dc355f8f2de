import SimSiamIR

/// Where a value lives at run time.
public enum Storage: Hashable, Sendable {
    /// Element offset into the workspace arena.
    case workspace(offset: Int)
    /// The parameter's slot in the params arena.
    case parameter(Int)
    /// The caller's input buffer.
    case input(Int)
    /// The same memory as another value (stop-gradient and reshape move no data).
    case alias(ValueID)
    /// Produces nothing (accumulate_grad).
    case none
}

/// The arena layout of a model: parameter, gradient and momentum offsets
/// (shared), buffer offsets, and per graph the workspace slot of every value.
///
/// Trainable parameters are laid out group by group, frozen ones last, so the
/// optimizer is one flat loop per group. This first planner gives every
/// intermediate value its own workspace slot; a liveness-based planner can
/// replace `plan(_:)` without touching code generation.
public struct ArenaLayout: Hashable, Sendable {
    /// Offsets are rounded up to this many elements (64 bytes of float).
    public static let alignment = 16

    public let parameterOffsets: [Int]
    public let parameterElements: Int
    /// Element range of each optimizer group's trainable parameters.
    public let groupRanges: [Range<Int>]
    public let bufferOffsets: [Int]
    public let bufferElements: Int

    public init(state: StateDecls) {
        var offsets = Array(repeating: 0, count: state.parameters.count)
        var cursor = 0
        var ranges: [Range<Int>] = []
        for group in state.groups.indices {
            let begin = cursor
            for (index, p) in state.parameters.enumerated() where p.isTrainable && p.group == group {
                offsets[index] = cursor
                cursor += Self.aligned(p.shape.elementCount)
            }
            ranges.append(begin..<cursor)
        }
        for (index, p) in state.parameters.enumerated() where !p.isTrainable {
            offsets[index] = cursor
            cursor += Self.aligned(p.shape.elementCount)
        }
        parameterOffsets = offsets
        parameterElements = cursor
        groupRanges = ranges
        var bufferCursor = 0
        bufferOffsets = state.buffers.map { buffer in
            defer { bufferCursor += Self.aligned(buffer.shape.elementCount) }
            return bufferCursor
        }
        bufferElements = bufferCursor
    }

    static func aligned(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }
}

/// The storage of every value of one graph.
public struct MemoryPlan: Hashable, Sendable {
    public let storage: [Storage]
    public let workspaceElements: Int

    /// One workspace slot per computed value, in execution order.
    public static func plan(_ graph: Graph) -> MemoryPlan {
        var storage = Array(repeating: Storage.none, count: graph.values.count)
        var cursor = 0
        for node in graph.nodes {
            for result in node.results {
                switch node.op {
                case .input(let index): storage[result.index] = .input(index)
                case .parameter(let index): storage[result.index] = .parameter(index)
                case .stopGradient, .reshape: storage[result.index] = .alias(node.operands[0])
                default:
                    storage[result.index] = .workspace(offset: cursor)
                    cursor += ArenaLayout.aligned(graph.shape(of: result).elementCount)
                }
            }
        }
        return MemoryPlan(storage: storage, workspaceElements: cursor)
    }

    /// Follows aliases to the value whose memory this is.
    public func resolved(_ value: ValueID) -> Storage {
        if case .alias(let target) = storage[value.index] { return resolved(target) }
        return storage[value.index]
    }
}
