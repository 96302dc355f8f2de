import Testing
@testable import SimSiamDSL
@testable import SimSiamIR
@testable import SimSiamPasses

/// `compile --graph-view`: the DOT shows what runs, marks what fusion merged
/// and lists exactly the backward ops a stop-gradient pruned.
@Suite struct GraphViewTests {
    static func lines(_ dot: String, containing text: String) -> [Substring] {
        dot.split(separator: "\n").filter { $0.contains(text) }
    }

    @Test func prunedAndFusedOpsAreMarkedAndEveryEdgeHasItsNodes() throws {
        let forward = try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4)
        let (differentiated, summary) = try Autodiff.differentiate(forward)
        let (fused, fusion) = try Fusion.fuse(differentiated)
        let dot = try GraphView.dot(forward: forward, executed: fused)
        #expect(dot.hasPrefix("digraph \"tiny\" {") && dot.hasSuffix("}\n"))
        // Pruned ops: the autodiff summary's count, each drawn dashed in the cluster.
        #expect(summary.prunedByStopGradient == 4)
        #expect(dot.contains("label=\"4 backward ops pruned by stop-gradient\""))
        #expect(Self.lines(dot, containing: "style=\"rounded,dashed\"").count == 4)
        #expect(dot.contains("[label=\"cosine_similarity_bwd_b\\nloss.cos_p2_z1"))
        // Fused ops: one marked node per fused op of the executed graph.
        let fusedOps = fused.nodes.filter { GraphView.fusionNote($0.op) != nil }.count
        #expect(Self.lines(dot, containing: "penwidth=2.5").count == fusedOps)
        #expect(fusedOps >= fusion.batchNormReLU + fusion.batchNormAddReLU + fusion.batchNormBackward)
        #expect(dot.contains("fused: BN + residual add + ReLU"))
        // Every edge joins two declared nodes; parameters are not drawn.
        let declared = Set(dot.split(separator: "\n").compactMap { line -> Substring? in
            let trimmed = line.drop { $0 == " " }
            guard let end = trimmed.firstIndex(of: " "), trimmed[end...].hasPrefix(" [") else { return nil }
            return trimmed[..<end]
        })
        let edges = Self.lines(dot, containing: " -> ")
        #expect(edges.count > 100)
        for edge in edges {
            let ends = edge.split(separator: " ").filter { $0.first == "n" || $0.first == "p" }.map { $0.trimmingSemicolon() }
            #expect(ends.count == 2 && ends.allSatisfy(declared.contains), "edge \(edge) names an undeclared node")
        }
        #expect(!dot.contains("parameter\\n"))
    }

    @Test func withoutStopGradientNothingIsPruned() throws {
        let forward = try Workload.tiny.makeModel(SimSiamVariant(stopGradient: false)).trainingGraph(name: "tiny", batch: 4)
        let (differentiated, _) = try Autodiff.differentiate(forward)
        let dot = try GraphView.dot(forward: forward, executed: differentiated)
        #expect(dot.contains("label=\"0 backward ops pruned by stop-gradient\""))
        #expect(Self.lines(dot, containing: "penwidth=2.5").isEmpty, "an unfused graph has no fused ops")
    }
}

extension Substring {
    fileprivate func trimmingSemicolon() -> Substring { last == ";" ? dropLast() : self }
}
