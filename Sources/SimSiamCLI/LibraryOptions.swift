import ArgumentParser
import Foundation
import SimSiamC

/// `--library DIR` / `--source FILE.c`: run the C of a tuning directory
/// (`simsiamc compile --out DIR`), edited or not, instead of compiling the workload.
struct LibraryOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Run the C in a tuning directory written by `simsiamc compile --out DIR`, edited or not.",
        discussion: "DIR/manifest.json names the graph: workload, batch and variant come from it. The C is built with the probed compiler through the build cache, and its ABI version and symbol table are checked against the graph's.",
        valueName: "dir"))
    var library: String?

    @Option(help: ArgumentHelp("Like --library, for one C file in a tuning directory (its manifest.json and header beside it).",
                               valueName: "file.c"))
    var source: String?

    func validate() throws {
        if library != nil && source != nil {
            throw ValidationError("give --library DIR or --source FILE.c, not both")
        }
    }

    /// The directory given, if any.
    func directory() throws -> TuningDirectory? {
        if let library { return try TuningDirectory.open(library: library) }
        if let source { return try TuningDirectory.open(source: source) }
        return nil
    }

    /// Builds and checks the directory's C, refusing flags that ask for another graph.
    func load(_ directory: TuningDirectory, instrumentation: Instrumentation = .plain, workload: WorkloadOptions? = nil,
              codegen: CodegenArguments? = nil, variant: SimSiamVariant? = nil) throws -> EditedProgram {
        if let codegen { try codegen.check(against: directory.manifest) }
        let expectation = TuningExpectation(workload: workload?.workload, batch: workload?.batch, variant: variant)
        return try Compiler.loadEdited(directory, instrumentation: instrumentation, expecting: expectation)
    }
}

extension CodegenArguments {
    /// With --library the manifest fixes how the C was written: a flag that says otherwise is an error.
    func check(against manifest: TuningManifest) throws {
        // The flags' defaults: a default value does not say the user asked for it.
        let defaults = CodegenOptions()
        var problems: [String] = []
        if precision != defaults.trainingPrecision && precision.rawValue != manifest.precision {
            problems.append("--precision \(precision.rawValue) (the C is \(manifest.precision))")
        }
        if kernels != defaults.kernels && kernels.rawValue != manifest.kernels {
            problems.append("--kernels \(kernels.rawValue) (the C has \(manifest.kernels) kernels)")
        }
        if vectorWidth != defaults.vectorWidth && vectorWidth.rawValue != manifest.vectorWidth {
            problems.append("--vector-width \(vectorWidth.rawValue) (the C's tiles are for \(manifest.vectorWidth))")
        }
        if checkNumerics && !manifest.checkNumerics {
            problems.append("--check-numerics (the C was written without checks; compile the directory with --check-numerics)")
        }
        if keepActivations {
            problems.append("--keep-activations (the C is written; compile the directory with --keep-activations)")
        }
        if let plan {
            problems.append("--plan \(plan) (the C follows the plan it was compiled with; compile the directory with --plan)")
        }
        guard problems.isEmpty else {
            throw ValidationError("with --library the manifest decides how the C is written; drop " + problems.joined(separator: ", "))
        }
    }
}
