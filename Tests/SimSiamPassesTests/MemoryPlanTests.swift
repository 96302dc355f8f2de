import Testing
import SimSiamIR
import SimSiamDSL
@testable import SimSiamPasses

@Suite struct MemoryPlanTests {
    @Test func parametersAreLaidOutGroupByGroupWithFrozenLast() throws {
        let graph = try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4)
        let layout = ArenaLayout(state: graph.state)
        #expect(layout.groupRanges.count == 2)
        #expect(layout.groupRanges[0].upperBound == layout.groupRanges[1].lowerBound)
        for (index, p) in graph.state.parameters.enumerated() {
            let offset = layout.parameterOffsets[index]
            #expect(offset % ArenaLayout.alignment == 0)
            if p.isTrainable {
                #expect(layout.groupRanges[p.group].contains(offset), "\(p.name)")
            } else {
                #expect(offset >= layout.groupRanges.last!.upperBound, "\(p.name)")
            }
        }
    }

    @Test func workspaceSlotsDoNotOverlapAndStopGradientAliases() throws {
        let graph = try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4)
        let plan = MemoryPlan.plan(graph)
        var slots: [(Int, Int)] = []
        for (index, storage) in plan.storage.enumerated() {
            if case .workspace(let offset) = storage { slots.append((offset, graph.values[index].shape.elementCount)) }
        }
        slots.sort { $0.0 < $1.0 }
        for (a, b) in zip(slots, slots.dropFirst()) { #expect(a.0 + a.1 <= b.0) }
        #expect(plan.workspaceElements >= (slots.last.map { $0.0 + $0.1 } ?? 0))
        let stop = graph.nodes.first { if case .stopGradient = $0.op { true } else { false } }!
        #expect(plan.storage[stop.results[0].index] == .alias(stop.operands[0]))
    }
}
