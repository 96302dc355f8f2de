import ArgumentParser
import SimSiamC

extension SimSiamVariant.Predictor: ExpressibleByArgument {}
extension SimSiamVariant.HeadNorm: ExpressibleByArgument {}
extension SimSiamVariant.Similarity: ExpressibleByArgument {}
extension SimSiamVariant.Symmetry: ExpressibleByArgument {}
extension AlternationInterval: ExpressibleByArgument {}

/// The SimSiam paper's ablations as flags; the defaults build the standard SimSiam.
struct VariantOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Detach the targets z (off: gradients flow through both branches; the paper's collapse).")
    var stopGradient = true

    @Option(help: "Predictor: learned, none (p = z), or frozen (kept at its random initialisation). For a learned predictor at a fixed lr, use --fix-pred-lr.")
    var predictor: SimSiamVariant.Predictor = .learned

    @Option(help: "BN in the projection and prediction MLPs: none, hidden, hidden+output (projector output too), or all (predictor output too).")
    var headBn: SimSiamVariant.HeadNorm = .hiddenAndOutput

    @Option(help: "Similarity: cosine, or cross-entropy (softmax(z) . log softmax(p)).")
    var similarity: SimSiamVariant.Similarity = .cosine

    @Option(help: "Loss: symmetric, asymmetric (D(p1, z2) only), or asymmetric-2x (asymmetric, the training set drawn twice per epoch).")
    var loss: SimSiamVariant.Symmetry = .symmetric

    @Option(help: ArgumentHelp("Multi-step alternation (paper section 5): targets computed by the network of one time, held fixed for K SGD steps (or every step of an epoch), then recomputed. K = 1 is SimSiam up to how the targets are computed.", valueName: "K|epoch"))
    var alternateEvery: AlternationInterval?

    @Option(help: ArgumentHelp("Moving-average targets (paper section 5.2, the expectation over augmentations, with --predictor none): each image keeps eta_x <- m * eta_x + (1 - m) * F(T'(x)) across epochs, and the loss compares each view with it. The paper's m is 0.8.", valueName: "m"))
    var etaMomentum: Double?

    func validate() throws {
        if let etaMomentum, !(etaMomentum >= 0 && etaMomentum < 1) {
            throw ValidationError("--eta-momentum \(etaMomentum): must lie in [0, 1) (the paper's is 0.8; 0 is plain SimSiam targets)")
        }
        if etaMomentum != nil && alternateEvery != nil {
            throw ValidationError("--eta-momentum and --alternate-every are two different targets (section 5.2): give one")
        }
    }

    var variant: SimSiamVariant {
        SimSiamVariant(stopGradient: stopGradient, predictor: predictor, headNorm: headBn, similarity: similarity, symmetry: loss,
                       targets: etaMomentum != nil ? .movingAverage : alternateEvery == nil ? .online : .cached,
                       etaMomentum: etaMomentum ?? 0.8)
    }
}
