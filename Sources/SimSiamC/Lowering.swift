import Foundation
@_exported import SimSiamCodegen
@_exported import SimSiamDSL
@_exported import SimSiamIR
@_exported import SimSiamPasses

/// A model lowered to C: the graphs after every pass, the emitted source, and
/// the numbers the compile summary prints.
public struct LoweredProgram: Sendable {
    /// Forward (both views), backward and gradient accumulation.
    public let training: Graph
    /// The eval-mode backbone, when the model has one.
    public let features: Graph?
    public let autodiff: AutodiffSummary
    /// What the fusion pass merged (nil for unfused reference builds).
    public let fusion: FusionSummary?
    /// What rematerialization recomputes in backward (nil when off or for reference builds).
    public let rematerialization: RematerializationSummary?
    public let generated: GeneratedC
    public let batch: Int
    public let options: CodegenOptions
    /// The kernel plan the C follows: every labelled convolution layer and pass with its
    /// algorithm (`options.plan`'s where it lists one, else the cost models'). Empty for
    /// reference kernels.
    public var plan: KernelPlan { KernelPlanner.plan(training: training, features: features, options: options) }
    /// The plan as a table for the compile summary (`KernelPlanner.table`).
    public var planTable: String { KernelPlanner.table(training: training, features: features, options: options) }
    public var precision: Precision { options.precision }
    /// Wall time of the Swift passes (tracing, autodiff, code generation).
    public let seconds: Double
    /// The SimSiam variant traced, when lowered from a DSL model.
    public var variant: SimSiamVariant?
    /// Where the plan came from when `simsiamc tune` stored it (`options.tunedPlanDirectory`).
    public var tunedPlan: String?
}

/// The Swift half of the compiler: trace the DSL, differentiate, plan and emit C.
public enum Lowering {
    /// Lowers one SimSiam model at a batch size per view.
    public static func lower(_ model: SimSiam, name: String, batch: Int,
                             options: CodegenOptions = CodegenOptions()) throws -> LoweredProgram {
        try checkBatch(batch)
        let start = Date()
        let forward = try model.trainingGraph(name: name, batch: batch)
        let features = try model.featureGraph(name: name + "-features", batch: batch)
        var lowered = try lower(forward: forward, features: features, options: options, started: start)
        lowered.variant = model.variant
        return lowered
    }

    /// Lowers a workload (built in, or read from a model description or graph file).
    public static func lower(_ workload: Workload, variant: SimSiamVariant = .standard, batch: Int,
                             options: CodegenOptions = CodegenOptions()) throws -> LoweredProgram {
        try checkBatch(batch)
        let start = Date()
        let graphs = try workload.trace(variant, batch: batch)
        var lowered = try lower(forward: graphs.training, features: graphs.features, options: options, started: start)
        lowered.variant = variant
        return lowered
    }

    private static func checkBatch(_ batch: Int) throws {
        guard batch >= 2 else {
            throw CompileError("batch \(batch) is too small: training-mode batch norm needs at least 2 samples per view")
        }
    }

    /// Lowers any forward graph with a scalar output "loss" (and optionally a
    /// feature graph over the same state): differentiate, plan, emit.
    public static func lower(forward: Graph, features: Graph?, options: CodegenOptions = CodegenOptions(),
                             started: Date = Date()) throws -> LoweredProgram {
        if let problem = BF16Support.problem(options) { throw CompileError(problem) }
        let (differentiated, summary) = try Autodiff.differentiate(forward)
        // The reference kernels stay unfused: the plain, op-by-op oracle.
        let fuse = options.kernels == .tuned
        let (fused, fusion) = fuse ? try Fusion.fuse(differentiated) : (differentiated, nil)
        let (training, rematerialization) = fuse && options.recomputeActivations ? try Rematerialization.apply(fused) : (fused, nil)
        let fusedFeatures = try features.map { fuse ? try Fusion.fuse($0).0 : $0 }
        var options = options
        let tunedPlan = try options.plan == nil ? TunedPlanStore.lookUp(forward: forward, training: training, features: fusedFeatures,
                                                                        options: options) : nil
        options.plan = options.plan ?? tunedPlan?.plan
        // Checked on the fused graphs, the nodes that get kernels; reference kernels have no choices.
        if let plan = options.plan, options.kernels == .tuned, tunedPlan == nil {
            do {
                try KernelPlanner.validate(plan, training: training, features: fusedFeatures, options: options)
            } catch let error as KernelPlanError {
                throw CompileError("--plan: \(error.description)")
            }
        }
        let generated = ProgramEmitter(training: training, features: fusedFeatures, options: options)
            .emit(baseName: cFileStem(forward.name) + options.fileSuffix)
        return LoweredProgram(training: training, features: fusedFeatures, autodiff: summary, fusion: fusion,
                              rematerialization: rematerialization, generated: generated,
                              batch: forward.inputs.first?.shape[0] ?? 0, options: options,
                              seconds: Date().timeIntervalSince(started), tunedPlan: tunedPlan?.note)
    }

    /// `fmnist-resnet-mini` -> `fmnist_resnet_mini`.
    public static func cFileStem(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

/// A compile error meant for the user: says what is wrong and what to do.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
