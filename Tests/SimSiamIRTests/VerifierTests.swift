import Testing
@testable import SimSiamIR

@Suite struct VerifierTests {
    func smallGraph() throws -> Graph {
        var state = StateDecls()
        state.groups = ["encoder"]
        state.parameters = [ParameterDecl(name: "w", shape: [3, 4], initializer: .constant(0), isTrainable: true, group: 0)]
        var graph = Graph(name: "small", state: state)
        graph.inputs = [InputDecl(name: "x", shape: [2, 4])]
        let x = try graph.appendInferred(.input(0), [], label: "x", origin: nil)[0]
        let w = try graph.appendInferred(.parameter(0), [], label: "w", origin: nil)[0]
        let y = try graph.appendInferred(.linear, [x, w], label: "fc", origin: SourceLocation(fileID: "M/Model.swift", line: 7))[0]
        graph.outputs["y"] = y
        return graph
    }

    @Test func wellFormedGraphPasses() throws {
        try Verifier.verify(try smallGraph())
    }

    @Test func useBeforeDefinitionIsReported() throws {
        var graph = try smallGraph()
        graph.append(.relu, [ValueID(99)], resultShapes: [[2, 3]], label: "late", origin: nil)
        #expect { try Verifier.verify(graph) } throws: { "\($0)".contains("before it is defined") }
    }

    @Test func wrongRecordedShapeIsReported() throws {
        var graph = try smallGraph()
        graph.append(.relu, [ValueID(2)], resultShapes: [[2, 5]], label: "relu", origin: nil)
        #expect { try Verifier.verify(graph) } throws: { "\($0)".contains("shape rule says") }
    }

    @Test func printerShowsStateNodesAndOrigins() throws {
        let text = Printer.print(try smallGraph())
        #expect(text.contains("param #0 w : [3,4]"))
        #expect(text.contains("%2 = linear(%0, %1) : [2,3]  // fc @ M/Model.swift:7"))
        #expect(text.contains("output y = %2"))
    }
}
