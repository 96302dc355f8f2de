/// The scalar type of the generated code. Float is the product; double
/// exists so finite-difference gradient checks are tight.
public enum Precision: String, Sendable, CaseIterable {
    case float32, float64

    /// The C spelling of the scalar type.
    public var cType: String { self == .float32 ? "float" : "double" }
    public var bytes: Int { self == .float32 ? 4 : 8 }

    /// A C literal of the scalar type.
    func literal(_ value: Double) -> String {
        var text = "\(value)"
        if !text.contains(".") && !text.contains("e") && !text.contains("inf") && !text.contains("nan") { text += ".0" }
        return self == .float32 ? text + "f" : text
    }

    /// sqrt for the scalar type.
    var sqrt: String { self == .float32 ? "sqrtf" : "sqrt" }
}

/// The arithmetic of convolution and linear-layer operands (activations, weights, output
/// gradients). Everything else (master weights, momentum, SGD, batch norm, L2 normalisation,
/// the loss, every reduction) stays in the scalar type. `bf16` and `bf16-emulated` compute the
/// same numbers bit for bit; docs/bf16.md says what is rounded where.
public enum MatmulOperands: String, Sendable, CaseIterable, Codable {
    /// The scalar type (float32 or float64).
    case native
    /// Rounded to bfloat16 (nearest, ties to even) once, when the GEMM's operand panels are
    /// packed; products accumulated in float32 by `vdpbf16ps` (AVX512_BF16).
    case bf16
    /// The same rounding and the same order of float32 multiply-adds as `vdpbf16ps`, without
    /// the instruction: for tests, and CPUs without AVX512_BF16 (slower than float32).
    case bf16Emulated = "bf16-emulated"

    /// Whether operands are rounded to bfloat16.
    public var isBF16: Bool { self != .native }
}

/// What `--precision` selects: the scalar type of the whole program and the arithmetic of its
/// convolutions and linear layers.
public enum TrainingPrecision: String, Sendable, CaseIterable {
    case float32, float64
    /// float32 everywhere, convolution and linear operands in bfloat16 (`vdpbf16ps`).
    case bf16
    /// `bf16`'s numbers without `vdpbf16ps`, flagged as emulated: any x86-64 CPU.
    case bf16Emulated = "bf16-emulated"

    public var scalar: Precision { self == .float64 ? .float64 : .float32 }
    public var operands: MatmulOperands {
        switch self {
        case .float32, .float64: .native
        case .bf16: .bf16
        case .bf16Emulated: .bf16Emulated
        }
    }

    public init(scalar: Precision, operands: MatmulOperands) {
        switch operands {
        case .native: self = scalar == .float64 ? .float64 : .float32
        case .bf16: self = .bf16
        case .bf16Emulated: self = .bf16Emulated
        }
    }
}

/// Which kernels convolutions and linear layers get.
public enum KernelStrategy: String, Sendable, CaseIterable {
    /// Plain loops, one output element at a time: the readable reference.
    case reference
    /// Packed GEMMs on a register-tiled micro-kernel (implicit im2col for convolutions).
    case tuned
}

/// How to generate the C of a model.
public struct CodegenOptions: Hashable, Sendable {
    public var precision: Precision
    public var kernels: KernelStrategy
    /// Time every kernel call; the library then exports `simsiam_profile_*`.
    public var profile: Bool
    /// The vector registers the tuned kernels' tiles are sized for; the C runs on any x86-64
    /// CPU either way, but tiles sized for the wrong registers spill (half speed).
    public var vectorWidth: VectorWidth
    /// Check every tensor a kernel call writes for NaN and infinity; the first
    /// non-finite value stops the step, and the library then exports
    /// `simsiam_numerics_*` saying which kernel, layer and tensor it was.
    public var checkNumerics: Bool
    /// Write the C for editing (`compile --out`): every kernel call is wrapped in
    /// `TIMED_CALL` and followed by a `TRACE_TENSOR` per tensor it wrote, which
    /// compile to nothing unless `-DSIMSIAM_PROFILE` / `-DSIMSIAM_TRACE` is given.
    /// So one edited file gives the plain, the profiling and the tracing library.
    public var tuningHooks: Bool
    /// Per-layer convolution choices that replace the cost models' (`--plan FILE`); layers and
    /// passes it does not list keep the derived choice. Tuned kernels only: reference kernels
    /// have one algorithm. Check it against the graph with `KernelPlanner.validate` first.
    public var plan: KernelPlan?
    /// The arithmetic of convolution and linear-layer operands: `native` (the scalar type), or
    /// bfloat16 with float32 accumulation (float32 builds of tuned kernels only; `BF16Support`
    /// checks the CPU).
    public var operands: MatmulOperands
    /// Where `simsiamc tune` stores measured plans (`TunedPlanStore`). When set and `plan` is nil,
    /// lowering uses the plan stored for this CPU, graph, batch and thread count, if there is one.
    /// nil (the library default): the cost models' plan, so results do not depend on a cache.
    public var tunedPlanDirectory: String?
    /// Recompute BN + ReLU outputs over feature maps in backward rather than keep them from the
    /// forward (`Rematerialization`): less memory at the peak; their BN backward recomputes them.
    /// Tuned kernels only; the reference build keeps everything, op by op.
    public var recomputeActivations: Bool

    public init(precision: Precision = .float32, kernels: KernelStrategy = .tuned, profile: Bool = false,
                vectorWidth: VectorWidth = .host, checkNumerics: Bool = false, tuningHooks: Bool = false,
                plan: KernelPlan? = nil, operands: MatmulOperands = .native, tunedPlanDirectory: String? = nil,
                recomputeActivations: Bool = true) {
        self.recomputeActivations = recomputeActivations
        self.plan = plan
        self.operands = operands
        self.tunedPlanDirectory = tunedPlanDirectory
        self.precision = precision
        self.kernels = kernels
        self.profile = profile
        self.vectorWidth = vectorWidth
        self.checkNumerics = checkNumerics
        self.tuningHooks = tuningHooks
    }

    /// What `--precision` says for these options: float32, float64, bf16 or bf16-emulated.
    public var trainingPrecision: TrainingPrecision { TrainingPrecision(scalar: precision, operands: operands) }

    /// The suffix that keeps variants' file names apart: `_f64`, `_bf16`, `_bf16emu`, `_reference`, `_profile`, `_checked`.
    public var fileSuffix: String {
        (precision == .float32 ? "" : "_f64") + [MatmulOperands.native: "", .bf16: "_bf16", .bf16Emulated: "_bf16emu"][operands]! + (kernels == .tuned ? "" : "_reference") + (profile ? "_profile" : "")
            + (checkNumerics ? "_checked" : "")
    }
}
