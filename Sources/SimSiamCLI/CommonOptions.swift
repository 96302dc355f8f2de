import ArgumentParser
import Foundation
import SimSiamC

/// Options every command that compiles a workload shares.
struct WorkloadOptions: ParsableArguments {
    // Optional so that a command run with --library can tell a flag given from the default.
    @Option(help: "The model: \(Workload.choices) (default: \(Workload.fmnistResNetMini.name)).")
    var workload: String?

    @Option(help: ArgumentHelp("Your own model: a Swift file that describes it with the DSL and ends with describe(...).",
                               discussion: "See examples/ and the README's \"Your own model\". The file is built against simsiamc's SimSiamDSL module with swiftc and run to trace its graph."))
    var model: String?

    @Option(help: "A model graph as JSON, written by `compile --model FILE.swift --out DIR` (DIR/graph.json); compiled at the batch it was traced at.")
    var graph: String?

    @Option(parsing: .unconditional, help: "Batch size per view (default: the workload's reference batch).")
    var batch: Int?

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let workload, Workload.named(workload) == nil {
            throw ValidationError("unknown workload \"\(workload)\"; choose one of: \(Workload.choices), or give your own with --model FILE.swift")
        }
        let sources = [("--workload", workload), ("--model", model), ("--graph", graph)].filter { $0.1 != nil }.map(\.0)
        if sources.count > 1 {
            throw ValidationError("\(sources.joined(separator: " and ")) each name a model; give one")
        }
        try FlagCheck.atLeast(batch, 2, "--batch", "training-mode batch norm needs at least 2 samples per view")
        try FlagCheck.atLeast(threads, 1, "--threads")
    }

    /// Whether the command line names a model (otherwise the default W1, or what a manifest or checkpoint names).
    var namesModel: Bool { workload != nil || model != nil || graph != nil }

    /// The model the flags name: a description file, a graph file, or a built-in workload (W1 by default).
    func load() throws -> LoadedModel {
        if let model { return try ModelDescription.load(model) }
        if let graph { return try GraphFile.load(graph) }
        return try LoadedModel.builtIn(workload ?? Workload.fmnistResNetMini.name)
    }

    /// `--batch`, else the model's default.
    func batch(for workload: Workload) -> Int { batch ?? workload.defaultBatch }

    /// Pins the OpenMP thread count; must run before the first generated kernel.
    func applyThreads() {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
    }
}

extension Precision: ExpressibleByArgument {}
extension TrainingPrecision: ExpressibleByArgument {}
extension KernelStrategy: ExpressibleByArgument {}
extension VectorWidth: ExpressibleByArgument {}

/// How the generated C is written.
struct CodegenArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Arithmetic of the generated code: float32; float64 to separate rounding from semantics; bf16 (convolution and linear operands in bfloat16, float32 sums; needs AVX512_BF16); bf16-emulated (bf16's numbers without the instruction, slowly, for tests).",
                               discussion: "See docs/bf16.md."))
    var precision: TrainingPrecision = .float32

    @Option(help: "Kernels for convolutions and linear layers: tuned (packed GEMM) or reference (plain loops).")
    var kernels: KernelStrategy = .tuned

    @Option(help: "Vector registers the tuned kernels' tiles are sized for: avx512 or avx2 (default: this CPU's).")
    var vectorWidth: VectorWidth = .host

    @Flag(help: ArgumentHelp(CodegenArguments.checkNumericsHelp))
    var checkNumerics = false

    static let checkNumericsHelp = "Check every tensor each kernel writes for NaN and infinity and stop at the first, naming the kernel, layer and tensor (slower)."

    @Option(help: ArgumentHelp(CodegenArguments.planHelp, discussion: CodegenArguments.planDiscussion, valueName: "file"))
    var plan: String?

    static let planHelp = "A kernel plan: the algorithm of each convolution layer and pass (edit the plan.json `compile --out DIR` writes)."
    static let planDiscussion = "Layers and passes the file does not list keep the cost models' choice; an entry that cannot run is an error naming its layer and pass. Tuned kernels only. See docs/tuning.md, \"The kernel plan\"."

    @Flag(help: ArgumentHelp(CodegenArguments.untunedHelp))
    var untuned = false

    @Flag(help: ArgumentHelp(CodegenArguments.keepActivationsHelp))
    var keepActivations = false

    static let keepActivationsHelp = "Keep the BN+ReLU outputs that backward would recompute (each block's first) from the forward until backward: more memory, and their BN backward reads them instead of writing them."

    static let untunedHelp = "Ignore the plans `simsiamc tune` stored for this CPU; follow the cost models' choices."

    /// The options the flags ask for; reads `--plan`.
    /// - Throws: `CompileError` when the plan file cannot be read.
    func options(profile: Bool = false) throws -> CodegenOptions {
        if plan != nil && kernels == .reference {
            throw ValidationError("--plan chooses among the tuned kernels; drop it or --kernels reference")
        }
        return CodegenOptions(precision: precision.scalar, kernels: kernels, profile: profile, vectorWidth: vectorWidth, checkNumerics: checkNumerics,
                              plan: try plan.map(PlanFile.read), operands: precision.operands,
                              tunedPlanDirectory: storedPlans(unless: plan != nil || untuned), recomputeActivations: !keepActivations)
    }
}

/// `--precision` of the training commands (`train`, `ablate`). Not part of the run's
/// configuration: a checkpoint's values convert to the library's scalar type when loaded, so
/// runs of any precision resume each other.
struct TrainingPrecisionOption: ParsableArguments {
    @Option(help: ArgumentHelp("Arithmetic of training: float32; bf16 (convolution and linear operands in bfloat16, float32 sums, weights and optimizer; needs AVX512_BF16); bf16-emulated (bf16's numbers without the instruction, slowly); float64 (about half float32's speed, to separate rounding from semantics).",
                               discussion: "float32 and bf16 runs write float32 checkpoints, float64 runs float64 ones; every run resumes from any of them (values convert). See docs/bf16.md."))
    var precision: TrainingPrecision = .float32

    /// Refuses a precision this CPU cannot run (bf16 without AVX512_BF16) before any data is read,
    /// so the user learns it before fetching a dataset or waiting for it to load.
    func checkThisCPU() throws {
        if let problem = BF16Support.problem(CodegenOptions(operands: precision.operands)) { throw CompileError(problem) }
    }
}

/// Where `simsiamc tune` stored plans for this CPU (SIMSIAMC_TUNED_PLANS, else the build cache's
/// plans/), for a compile to follow; nil when `ignored` (`--plan` or `--untuned` given) or turned off.
func storedPlans(unless ignored: Bool = false) -> String? {
    ignored ? nil : TunedPlanStore.configured()?.directory.path
}

/// Prints a line to standard output unbuffered, so progress shows up as it
/// happens even when the output goes to a pipe or a log file. In a data-parallel
/// run only rank 0 speaks; errors still come from the rank that had them.
func say(_ text: String) {
    guard (MPIRanks.current?.rank ?? 0) == 0 else { return }
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints to standard error, for progress and diagnostics.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
