import SimSiamIR
import SimSiamPasses

/// Where the training step starts the sums of the gradient arena over all ranks
/// (PyTorch DDP's buckets): backward finishes the last layers' gradients first, so
/// each optimizer group's range fills from its end. As soon as a run of finished
/// gradients at the top of a group's unsent part holds `bucketElements`, its sum
/// starts, while backward goes on with earlier layers; the rest of each group
/// starts after the last backward kernel. Every element of every group is summed
/// exactly once, and only after the last kernel that writes it.
struct GradientBuckets {
    /// Elements per bucket before a sum starts (512 KB of float): large enough that a
    /// sum's latency is small beside its bytes, small enough that W1 (1.03 M parameters)
    /// gets several buckets to overlap with its backward pass.
    static let bucketElements = 1 << 17

    private let state: StateDecls
    private let layout: ArenaLayout
    private let names: ArenaNames
    /// The node index of the last kernel that writes each trainable parameter's gradient.
    private let lastWrite: [Int: Int]
    /// Per group: trainable parameters by offset, and where the unsent part ends.
    private let members: [[Int]]
    private var unsentEnd: [Int]
    /// Whether a sum has started (from then on, calls are followed by a progress poll).
    private(set) var started = false
    private(set) var count = 0

    init(graph: Graph, layout: ArenaLayout, names: ArenaNames) {
        state = graph.state
        self.layout = layout
        self.names = names
        var last: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            if case .accumulateGradient(let parameter) = node.op { last[parameter] = index }
        }
        lastWrite = last
        let declarations = graph.state
        members = declarations.groups.indices.map { group in
            declarations.parameters.indices.filter { declarations.parameters[$0].isTrainable && declarations.parameters[$0].group == group }
                .sorted { layout.parameterOffsets[$0] < layout.parameterOffsets[$1] }
        }
        unsentEnd = layout.groupRanges.map(\.upperBound)
    }

    /// The sums to start once node `index` has run.
    mutating func afterNode(_ index: Int) -> [String] {
        var lines: [String] = []
        for group in members.indices {
            // The lowest offset from which every unsent gradient of the group is final.
            var low = unsentEnd[group]
            for parameter in members[group].reversed() where layout.parameterOffsets[parameter] < unsentEnd[group] {
                guard (lastWrite[parameter] ?? -1) <= index else { break }
                low = layout.parameterOffsets[parameter]
            }
            if unsentEnd[group] - low >= Self.bucketElements { lines.append(start(group: group, from: low)) }
        }
        return lines
    }

    /// The sums of whatever is left after the last backward kernel.
    mutating func remaining() -> [String] {
        members.indices.compactMap { group in
            unsentEnd[group] > layout.groupRanges[group].lowerBound ? start(group: group, from: layout.groupRanges[group].lowerBound) : nil
        }
    }

    private mutating func start(group: Int, from low: Int) -> String {
        let high = unsentEnd[group]
        let covered = members[group].filter { (low..<high).contains(layout.parameterOffsets[$0]) }.map { state.parameters[$0].name }
        unsentEnd[group] = low
        started = true
        count += 1
        let span = covered.count > 1 ? "\(covered.last!) ... \(covered.first!)" : covered.first ?? "padding"
        // A bucket starts where a parameter does: the lowest one it covers.
        let first = members[group].first { layout.parameterOffsets[$0] == low }!
        return "start_gradient_sum(\(names.gradient(first)), \(high - low));  /* bucket \(count), group \(state.groups[group]): \(span) */"
    }
}
