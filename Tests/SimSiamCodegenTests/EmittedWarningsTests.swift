import Foundation
import SimSiamIR
import SimSiamPasses
import SimSiamToolchain
import Testing
@testable import SimSiamCodegen
@testable import SimSiamDSL

/// Emitted C compiles without a warning under simsiamc's flags: a local an entry point
/// binds but never uses (a workspace name, an arena the model lacks) warns in every build.
@Suite struct EmittedWarningsTests {
    /// simsiamc's flags with warnings as errors, syntax only: a full -O3 build of W1 takes minutes.
    static let flags = CCompiler.baseFlags.filter { !["-O3", "-fPIC", "-shared"].contains($0) } + ["-Werror", "-fsyntax-only"]

    static func emit(_ training: Graph, _ features: Graph?, _ options: CodegenOptions, _ name: String) throws -> GeneratedC {
        let fuse = options.kernels == .tuned
        let (differentiated, _) = try Autodiff.differentiate(training)
        return ProgramEmitter(training: fuse ? try Fusion.fuse(differentiated).0 : differentiated,
                              features: try features.map { fuse ? try Fusion.fuse($0).0 : $0 }, options: options).emit(baseName: name)
    }

    /// A model without batch norm whose outputs include a parameter and an input as they are.
    static func bare() throws -> Graph {
        let m = Model()
        let w = m.declareParameter("head.w", [2, 3], .uniformFanIn(fanIn: 3))
        let g = GraphBuilder(name: "bare", model: m, training: true)
        let x = g.input("x", [4, 3])
        g.output("loss", x.linear(g.parameter(w), label: "head.linear").mean(label: "head.mean"))
        g.output("w", g.parameter(w))
        g.output("x", x)
        return try g.finish()
    }

    static func programs() throws -> [GeneratedC] {
        let w1 = Workload.fmnistResNetMini.makeModel(), tiny = Workload.tiny.makeModel()
        return [
            try emit(w1.trainingGraph(name: "w1", batch: 256), w1.featureGraph(name: "w1-features", batch: 256),
                     CodegenOptions(vectorWidth: .avx512), "w1"),
            try emit(tiny.trainingGraph(name: "tiny", batch: 4), tiny.featureGraph(name: "tiny-features", batch: 4),
                     CodegenOptions(precision: .float64, profile: true, vectorWidth: .avx2, checkNumerics: true), "tiny_f64"),
            try emit(tiny.trainingGraph(name: "tiny", batch: 4), nil,
                     CodegenOptions(kernels: .reference, checkNumerics: true, tuningHooks: true), "tiny_hooks"),
            try emit(bare(), nil, CodegenOptions(), "bare"),
        ]
    }

    @Test func emittedProgramsCompileWithoutWarnings() throws {
        let compiler = try CompilerProbe.resolve()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-warnings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for program in try Self.programs() {
            for (name, text) in [(program.baseName + ".c", program.source), (program.baseName + ".h", program.header)] {
                try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compiler.path)
            process.arguments = Self.flags + [directory.appendingPathComponent(program.baseName + ".c").path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0 && output.isEmpty, "\(program.baseName).c:\n\(output)")
        }
    }
}
