import Foundation
import Testing
import SimSiamIR
import SimSiamDSL
import SimSiamPasses
@testable import SimSiamCodegen

/// The entry points pass workspace tensors by name (`v3_backbone_conv1`), never as `ws + 12845056`.
@Suite struct WorkspaceNamesTests {
    /// W1 as `Generated/` holds it: fused graphs, tuned kernels for AVX-512.
    static let w1: (graph: Graph, source: String) = {
        let model = Workload.fmnistResNetMini.makeModel()
        let training = try! Fusion.fuse(try! Autodiff.differentiate(try! model.trainingGraph(name: "w1", batch: 256)).0).0
        let features = try! Fusion.fuse(try! model.featureGraph(name: "w1-features", batch: 256)).0
        let options = CodegenOptions(vectorWidth: .avx512)
        return (training, ProgramEmitter(training: training, features: features, options: options).emit(baseName: "w1").source)
    }()

    /// The lines of a C function's body.
    func body(of function: String, in source: String) throws -> [String] {
        let start = try #require(source.range(of: "\nvoid \(function)("))
        let end = try #require(source.range(of: "\n}\n", range: start.upperBound..<source.endIndex))
        return source[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
    }

    /// Declared names (`float* const v3_backbone_conv1 = ws + 0;`) in order.
    func declarations(_ body: [String]) -> [(name: String, value: Int)] {
        body.compactMap { line in
            guard let match = line.firstMatch(of: /^  float\* const (([vd])(\d+)\w*) = ws \+ \d+;/) else { return nil }
            return (String(match.1), Int(match.3)!)
        }
    }

    /// Kernel calls: a statement that calls a function with the IR line it implements as its comment.
    func calls(_ body: [String]) -> [(arguments: [String], comment: String)] {
        body.compactMap { line in
            guard let match = line.firstMatch(of: /^  \w+\((.*)\);  \/\* (.*) \*\/$/) else { return nil }
            return (match.1.split(separator: ", ").map(String.init), String(match.2))
        }
    }

    @Test func trainStepCallsPassNoBareWorkspaceOffsets() throws {
        let body = try body(of: "simsiam_train_step", in: Self.w1.source)
        let calls = calls(body)
        #expect(calls.count > 100)
        for call in calls {
            #expect(!call.arguments.contains { $0.hasPrefix("ws + ") || $0.hasPrefix("ws+") || $0 == "ws" }, "\(call)")
        }
        // Apart from the names' declarations, the step never spells a workspace offset.
        #expect(body.filter { $0.contains("ws + ") }.count == declarations(body).count)
    }

    @Test func namesCarryTheValueNumberOfTheCallComment() throws {
        let body = try body(of: "simsiam_train_step", in: Self.w1.source)
        let declared = Dictionary(uniqueKeysWithValues: declarations(body).map { ($0.name, $0.value) })
        var named = 0
        for call in calls(body) {
            for argument in call.arguments where declared[argument] != nil {
                named += 1
                #expect(call.comment.contains("%\(declared[argument]!)"), "\(argument) in \(call.comment)")
            }
        }
        #expect(named > 200)
    }

    @Test func gradientsReadAsGradients() throws {
        let graph = Self.w1.graph
        let declared = declarations(try body(of: "simsiam_train_step", in: Self.w1.source))
        #expect(declared.contains { $0.name.hasPrefix("d") } && declared.contains { $0.name.hasPrefix("v") })
        for (name, value) in declared {
            let phase = graph.nodes[graph.values[value].producer].phase
            #expect(name.hasPrefix(phase == .backward ? "d" : "v"), "\(name) is made in the \(phase) pass")
        }
    }

    /// Unused locals would warn; a name used before its declaration would not compile.
    @Test func everyEntryPointDeclaresWhatItUsesInOrderOfFirstUse() throws {
        for function in ["simsiam_train_step", "simsiam_features", "simsiam_read_output"] {
            let body = try body(of: function, in: Self.w1.source)
            let declared = declarations(body)
            #expect(!declared.isEmpty, "\(function)")
            let uses = body.filter { !$0.contains(" = ws + ") }.joined(separator: "\n")
            let firstUse = declared.map { name, _ in uses.firstMatch(of: try! Regex("\\b\(name)\\b"))?.range.lowerBound }
            #expect(!firstUse.contains(nil), "\(function) declares a name it never uses")
            let positions = firstUse.compactMap { $0 }
            #expect(positions == positions.sorted(), "\(function)")
        }
    }

    @Test func doublePrecisionNamesAreDoublePointers() throws {
        let model = Workload.tiny.makeModel()
        let (training, _) = try Autodiff.differentiate(try model.trainingGraph(name: "tiny", batch: 4))
        let source = ProgramEmitter(training: training, features: nil, options: CodegenOptions(precision: .float64)).emit(baseName: "tiny").source
        #expect(source.contains("  double* const v3_backbone_conv1 = ws + "))
        #expect(!source.contains("float* const"))
    }
}
