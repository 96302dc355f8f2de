import Foundation
@_exported import SimSiamData
@_exported import SimSiamEval
@_exported import SimSiamRuntime
@_exported import SimSiamToolchain

/// A model compiled into a loaded native library.
public struct CompiledModel: @unchecked Sendable {
    public let lowered: LoweredProgram
    public let build: BuiltLibrary
    public let library: ModelLibrary

    /// The compile summary a user reads: ops, pruning, kernels, arenas, timings.
    public var summary: String {
        let g = lowered.generated
        let bytes = lowered.precision.bytes
        let ad = lowered.autodiff
        return """
            \(lowered.training.name): batch \(lowered.batch) per view, \(lowered.options.trainingPrecision.rawValue), \(lowered.options.kernels.rawValue) kernels\(lowered.options.profile ? ", profiling" : "")\(numericsNote)\(variantNote)
              ops:     \(ad.forwardOps) forward, \(ad.backwardOps) backward, \(ad.prunedByStopGradient) backward ops pruned by stop-gradient
              fusion:  \(fusionLine)\(recomputeNote)
              kernels: \(g.kernelCount) C functions (views share kernels)\(vectorNote)
              arenas:  params \(megabytes(g.parameterElements * bytes)) (x3 with grads and momentum), buffers \(megabytes(g.bufferElements * bytes)), workspace \(megabytes(g.workspaceElements * bytes)) (\(megabytes(g.peakLiveWorkspaceElements * bytes)) live at the peak, \(megabytes(g.unsharedWorkspaceElements * bytes)) without reuse)
              passes:  \(String(format: "%.2f", lowered.seconds)) s (trace, autodiff, codegen)
              clang:   \(build.summary)\(planNote)
            """
    }

    private var recomputeNote: String {
        guard let r = lowered.rematerialization, r.recomputed > 0 else { return "" }
        return "\n  memory:  \(r.recomputed) BN+ReLU outputs recomputed by their BN backward, not kept (\(megabytes(r.elements * lowered.precision.bytes)))"
    }

    private var planNote: String { lowered.tunedPlan.map { "\n  plan:    " + $0 } ?? "" }

    private var numericsNote: String {
        lowered.options.checkNumerics ? ", numeric checks on (\(lowered.generated.numericsChecks) tensors checked after their kernels)" : ""
    }

    private var vectorNote: String {
        lowered.options.kernels == .tuned ? ", tiles for \(lowered.options.vectorWidth.rawValue)" : ""
    }

    private var variantNote: String {
        guard let variant = lowered.variant, variant != .standard else { return "" }
        return ", variant: " + variant.summary
    }

    private var fusionLine: String {
        guard let f = lowered.fusion else { return "off (reference kernels)" }
        return "\(f.batchNormReLU) BN+ReLU and \(f.batchNormAddReLU) BN+add+ReLU forward, \(f.batchNormBackward) BN backward triples (\(f.reluMasks) with the ReLU mask), \(f.accumulatedGradients) gradient sums into conv dx, \(f.convolutionMoments) BN statistics from their convolution: \(f.nodesBefore) -> \(f.nodesAfter) ops"
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1e6) }
}

/// The whole pipeline: DSL model -> lowered C -> cached native library -> loaded.
public enum Compiler {
    /// Compiles a workload at a batch size per view (the workload's reference batch by default).
    public static func compile(_ workload: Workload, batch: Int? = nil, options: CodegenOptions = CodegenOptions(),
                               variant: SimSiamVariant = .standard, cache: BuildCache? = nil) throws -> CompiledModel {
        try build(Lowering.lower(workload, variant: variant, batch: batch ?? workload.defaultBatch, options: options), cache: cache)
    }

    /// Compiles any SimSiam model described with the DSL.
    public static func compile(_ model: SimSiam, name: String, batch: Int, options: CodegenOptions = CodegenOptions(),
                               cache: BuildCache? = nil) throws -> CompiledModel {
        try build(Lowering.lower(model, name: name, batch: batch, options: options), cache: cache)
    }

    /// Builds and loads an already lowered program.
    public static func build(_ lowered: LoweredProgram, cache: BuildCache? = nil) throws -> CompiledModel {
        let cache = try cache ?? BuildCache()
        let stem = lowered.generated.baseName
        let build = try cache.build(source: lowered.generated.source, header: lowered.generated.header,
                                    headerName: stem + ".h", libraryName: stem)
        let library = try ModelLibrary.load(path: build.path)
        return CompiledModel(lowered: lowered, build: build, library: library)
    }
}
