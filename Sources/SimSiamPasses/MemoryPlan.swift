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
/// optimizer is one flat loop per group. Workspace slots of intermediate
/// values come from `MemoryPlan`.
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
    /// What the workspace would need if no two values shared memory.
    public let unsharedElements: Int
    /// The most elements live at once: no placement needs less than this.
    public let peakLiveElements: Int

    /// Places every computed value in the workspace by liveness: a value's
    /// slot is free again after its last reader (aliases such as
    /// stop-gradient extend it; graph outputs live to the end). A node's
    /// results never share memory with its operands, so kernels need not
    /// handle in-place updates. Free blocks are reused best-fit, which keeps
    /// the plan deterministic.
    public static func plan(_ graph: Graph) -> MemoryPlan {
        var storage = Array(repeating: Storage.none, count: graph.values.count)
        for node in graph.nodes {
            for result in node.results {
                switch node.op {
                case .input(let index): storage[result.index] = .input(index)
                case .parameter(let index): storage[result.index] = .parameter(index)
                case .stopGradient, .reshape: storage[result.index] = .alias(node.operands[0])
                default: break
                }
            }
        }
        func owner(_ value: ValueID) -> ValueID {
            if case .alias(let target) = storage[value.index] { return owner(target) }
            return value
        }
        var lastUse = graph.values.map(\.producer)
        for (index, node) in graph.nodes.enumerated() {
            for operand in node.operands { lastUse[owner(operand).index] = max(lastUse[owner(operand).index], index) }
        }
        for output in graph.outputs.values { lastUse[owner(output).index] = graph.nodes.count }

        var freeBlocks: [Range<Int>] = []
        var end = 0, unshared = 0, live = 0, peakLive = 0
        var releasedAfter: [Int: [ValueID]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for result in node.results where storage[result.index] == .none {
                let size = ArenaLayout.aligned(graph.shape(of: result).elementCount)
                unshared += size
                let offset = take(size, from: &freeBlocks, end: &end)
                storage[result.index] = .workspace(offset: offset)
                releasedAfter[lastUse[result.index], default: []].append(result)
                live += size
            }
            peakLive = max(peakLive, live)
            for value in releasedAfter[index, default: []] {
                guard case .workspace(let offset) = storage[value.index] else { continue }
                let size = ArenaLayout.aligned(graph.shape(of: value).elementCount)
                give(offset..<(offset + size), to: &freeBlocks)
                live -= size
            }
        }
        return MemoryPlan(storage: storage, workspaceElements: end, unsharedElements: unshared, peakLiveElements: peakLive)
    }

    /// Best fit among the free blocks, else new space at the end.
    private static func take(_ size: Int, from freeBlocks: inout [Range<Int>], end: inout Int) -> Int {
        if let best = freeBlocks.indices.filter({ freeBlocks[$0].count >= size }).min(by: { freeBlocks[$0].count < freeBlocks[$1].count }) {
            let block = freeBlocks[best]
            if block.count == size { freeBlocks.remove(at: best) } else { freeBlocks[best] = (block.lowerBound + size)..<block.upperBound }
            return block.lowerBound
        }
        // A free block touching the end can grow instead of leaving a hole.
        if let last = freeBlocks.indices.first(where: { freeBlocks[$0].upperBound == end }) {
            let offset = freeBlocks[last].lowerBound
            freeBlocks.remove(at: last)
            end = offset + size
            return offset
        }
        defer { end += size }
        return end
    }

    /// Returns a block, merging it with free neighbours.
    private static func give(_ block: Range<Int>, to freeBlocks: inout [Range<Int>]) {
        var merged = block
        freeBlocks.removeAll { other in
            if other.upperBound == merged.lowerBound || other.lowerBound == merged.upperBound {
                merged = min(other.lowerBound, merged.lowerBound)..<max(other.upperBound, merged.upperBound)
                return true
            }
            return false
        }
        freeBlocks.append(merged)
        freeBlocks.sort { $0.lowerBound < $1.lowerBound }
    }

    /// Follows aliases to the value whose memory this is.
    public func resolved(_ value: ValueID) -> Storage {
        if case .alias(let target) = storage[value.index] { return resolved(target) }
        return storage[value.index]
    }
}
