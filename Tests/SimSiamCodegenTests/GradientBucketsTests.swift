import Testing
import SimSiamIR
import SimSiamDSL
import SimSiamPasses
@testable import SimSiamCodegen

/// The gradient sums of a data-parallel step (`GradientBuckets`): every trainable
/// gradient is summed exactly once, never before the last kernel that writes it,
/// and W1's sums start while backward still runs.
@Suite struct GradientBucketsTests {
    struct Start {
        var node: Int  // the sum starts after this node; nodes.count for after backward
        var range: Range<Int>
    }

    func starts(_ workload: Workload) throws -> (graph: Graph, layout: ArenaLayout, starts: [Start]) {
        let (graph, _) = try Autodiff.differentiate(try workload.makeModel().trainingGraph(name: workload.name, batch: 2))
        let layout = ArenaLayout(state: graph.state)
        let names = ArenaNames(state: graph.state, layout: layout)
        let offsets = Dictionary(uniqueKeysWithValues: graph.state.parameters.indices.map { (names.gradient($0), layout.parameterOffsets[$0]) })
        var buckets = GradientBuckets(graph: graph, layout: layout, names: names)
        func parse(_ line: String, node: Int) throws -> Start {
            // start_gradient_sum(G_name, count);  /* ... */
            let call = line.split(separator: ";")[0].dropFirst("start_gradient_sum(".count).dropLast()
            let parts = call.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let offset = try #require(offsets[parts[0]], "\(parts[0]) names no gradient")
            return Start(node: node, range: offset..<(offset + Int(parts[1])!))
        }
        var result: [Start] = []
        for index in graph.nodes.indices {
            result += try buckets.afterNode(index).map { try parse($0, node: index) }
        }
        result += try buckets.remaining().map { try parse($0, node: graph.nodes.count) }
        return (graph, layout, result)
    }

    @Test(arguments: [Workload.tiny, .fmnistResNetMini, .cifarResNet18])
    func everyGradientIsSummedOnceAfterItsLastWrite(_ workload: Workload) throws {
        let (graph, layout, starts) = try starts(workload)
        var covered = [Int](repeating: 0, count: layout.parameterElements)
        for start in starts { for element in start.range { covered[element] += 1 } }
        for range in layout.groupRanges {
            #expect(covered[range].allSatisfy { $0 == 1 }, "\(workload.name): group range \(range) is not summed exactly once")
        }
        #expect(covered.reduce(0, +) == layout.groupRanges.map(\.count).reduce(0, +), "\(workload.name): sums outside the groups")
        for (index, node) in graph.nodes.enumerated() {
            guard case .accumulateGradient(let parameter) = node.op else { continue }
            let offset = layout.parameterOffsets[parameter]
            let start = try #require(starts.first { $0.range.contains(offset) })
            #expect(start.node >= index, "\(workload.name): \(graph.state.parameters[parameter].name) is summed after node \(start.node) but written at \(index)")
        }
    }

    @Test func w1StartsSumsDuringBackward() throws {
        let (graph, _, starts) = try starts(.fmnistResNetMini)
        let early = starts.filter { $0.node < graph.nodes.count - 1 }
        #expect(early.count >= 3, "only \(early.count) of \(starts.count) buckets start before backward ends")
        #expect(starts.allSatisfy { $0.range.count >= GradientBuckets.bucketElements || $0.node == graph.nodes.count },
                "a bucket started early below the bucket size")
    }
}
