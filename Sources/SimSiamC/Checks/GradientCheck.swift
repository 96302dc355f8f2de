import Foundation

/// `simsiamc check-gradients` as a library: a float64 build of a model's
/// training graph checked against central finite differences of its loss.
public enum GradientCheck {
    /// The default tolerance on each tensor's relative error (see `FiniteDifferences.relativeError`).
    ///
    /// Measured with the defaults (float64, batch 4, h = 1e-6, 8 elements and
    /// 4 directions per tensor, docs/commands.md): honest models stay below
    /// 3e-7 (tiny: 8e-9; W1: 2.9e-7 and 3.0e-7 on seeds 0 and 1, tuned
    /// kernels), the rounding of the loss (about 1e-16 |terms| / h) over the
    /// small gradients of the last stage. A ReLU kink inside [-h, h] costs a
    /// probe up to 6e-3 (seen on 1 to 2 of W1's 468 probes per seed); those
    /// probes are measured again one-sided and come out below 1.2e-7. A wrong
    /// VJP shows at about its own relative size: a backward kernel off by 0.1%
    /// in one element of a 16-element bias measured 2.4e-4 (the tests), the
    /// same slip in W1's 512-element predictor.3.bias 3.6e-5; a wrong index or
    /// a missing term of a sum far more. 1e-5 sits 30x above the noise and
    /// still catches that 0.1% slip in a single element of W1; the op-by-op
    /// gallery, with no kinks and larger gradients, holds 1e-6.
    public static let defaultTolerance = 1e-5

    /// Errors are relative to at least this fraction of the model's largest
    /// gradient element. The rounding noise of a W1 probe is about 2.2e-9
    /// (2.9e-7 of layer3.0.bn2.bias's 7.4e-3); 1e-3 of W1's largest element,
    /// 0.83, is 8.3e-4, against which that noise is 2.6e-6: a tensor without
    /// gradient (a bias right before a batch norm) passes, and one whose
    /// gradient is wrongly zero fails once its true gradient reaches 1e-8 of
    /// the largest. 1e-4 would leave the noise at 2.6e-5, above the tolerance.
    /// Of tiny's and W1's tensors only W1's predictor.3.bias (max 5.0e-4) is
    /// below the floor, judged 1.7 times more leniently.
    public static let scaleFloor = 1e-3

    /// The variant checked: `variant` with stop-gradient off. With the cut,
    /// the step's gradient is by design not the derivative of the loss (the
    /// targets count as constants), so finite differences cannot check it;
    /// without it, every backward kernel of the standard graph runs, plus
    /// those of the target branch.
    public static func checkedVariant(_ variant: SimSiamVariant = .standard) -> SimSiamVariant {
        var checked = variant
        checked.stopGradient = false
        return checked
    }

    /// Codegen options of the checked build: float64, so that the finite
    /// differences are not drowned in float32 rounding, with `kernels` (the
    /// tuned ones are what training runs).
    public static func options(kernels: KernelStrategy = .tuned, vectorWidth: VectorWidth = .host) -> CodegenOptions {
        CodegenOptions(precision: .float64, kernels: kernels, vectorWidth: vectorWidth)
    }

    /// Checks a loaded float64 library: initialises the state with `seed`,
    /// gives BN gammas and betas random values (a zero-init residual gamma
    /// would hide its branch's gradients), draws inputs uniform in [-2, 2)
    /// and compares every trainable tensor's gradient with finite differences.
    /// - Throws: `CompileError` when the library is not float64; what a training step throws.
    public static func run(_ library: ModelLibrary, seed: UInt64 = 0, probes: GradientProbes = GradientProbes(),
                           tolerance: Double = defaultTolerance,
                           progress: (TensorGradientError, _ index: Int, _ total: Int) -> Void = { _, _, _ in }) throws
        -> GradientCheckReport
    {
        guard library.scalarBytes == 8 else {
            throw CompileError("a gradient check needs a float64 build (this library has \(library.scalarBytes)-byte scalars): in float32 the rounding of the loss swamps the finite differences; compile with precision float64")
        }
        let start = Date()
        let state = ModelState(library: library)
        state.initialize(seed: seed)
        var random = XorShiftRandom(seed: seed)
        try state.randomizeBatchNormAffine(&random)
        let inputs = library.inputs.map { random.array($0.numel, -2, 2).map(Float.init) }
        let loss = try state.lossAndGradients(inputs)
        let results = try FiniteDifferences.check(state, inputs: inputs, probes: probes, tolerance: tolerance,
                                                  floor: scaleFloor, progress: progress)
        return GradientCheckReport(results: results, tolerance: tolerance, probes: probes, loss: loss,
                                   seconds: Date().timeIntervalSince(start))
    }
}
