extension AblationStudyReport {
    /// The canonical study names ``paperFigures(study:)`` knows, in the paper's order.
    public static let studies = ["stop-gradient", "predictor", "batch-size", "bn", "similarity", "symmetry", "alternation", "predictor-expectation"]

    /// The SimSiam paper's ImageNet linear-probe figures for `study` (Chen & He, "Exploring
    /// Simple Siamese Representation Learning", CVPR 2021, arXiv:2011.10566; ResNet-50,
    /// 100-epoch pre-training), with a note on how the paper ran them.
    ///
    /// `study` is one of ``studies``; case, spaces, `-` and `_` are ignored, and common
    /// spellings ("stopgrad", "batch", "batchnorm", "symmetrization", ...) are accepted.
    /// An unknown study gives no figures and a note saying so.
    public static func paperFigures(study: String) -> (figures: [PaperFigure], note: String) {
        guard let canonical = canonicalStudy(study) else {
            return ([], "The paper has no ablation matching \"\(study)\"; known studies: \(studies.joined(separator: ", ")).")
        }
        switch canonical {
        case "stop-gradient":
            return ([
                PaperFigure(variant: "w/ stop-grad", result: "67.7 ± 0.1% (mean ± std of 5 trials)"),
                PaperFigure(variant: "w/o stop-grad", result: "0.1% (collapse, chance level)"),
            ], "Figure 2. Stop-gradient is the only difference between the two runs. Without it the loss "
                + "reaches its minimum -1 at once and the std of z/|z| falls to 0: the outputs collapse to a constant.")
        case "predictor":
            return ([
                PaperFigure(variant: "baseline: predictor lr with cosine decay", result: "67.7%"),
                PaperFigure(variant: "(a) no predictor MLP", result: "0.1% (collapse)"),
                PaperFigure(variant: "(b) predictor fixed at random init", result: "1.5% (no convergence, not collapse)"),
                PaperFigure(variant: "(c) predictor lr not decayed", result: "68.1%"),
            ], "Table 1. With the symmetric loss and no predictor, stop-gradient is equivalent to no stop-gradient "
                + "with the loss halved, so the model collapses; a frozen random predictor does not collapse but "
                + "the loss stays high. The constant predictor lr of (c) is used in all later tables, hence their "
                + "68.1% baseline.")
        case "batch-size":
            return ([
                PaperFigure(variant: "batch 64", result: "66.1%"),
                PaperFigure(variant: "batch 128", result: "67.3%"),
                PaperFigure(variant: "batch 256", result: "68.1%"),
                PaperFigure(variant: "batch 512 (paper default)", result: "68.1%"),
                PaperFigure(variant: "batch 1024", result: "68.0%"),
                PaperFigure(variant: "batch 2048", result: "67.9%"),
                PaperFigure(variant: "batch 4096", result: "64.0% (plain SGD)"),
            ], "Table 2. lr = 0.05 x batch / 256, 10 warm-up epochs for batch >= 1024, and plain SGD "
                + "(not LARS) at every size; the paper expects LARS to recover the 4096 drop.")
        case "bn":
            return ([
                PaperFigure(variant: "(a) none", result: "34.6% (not collapse: optimisation difficulty)"),
                PaperFigure(variant: "(b) hidden layers only", result: "67.4%"),
                PaperFigure(variant: "(c) hidden + projector output (default)", result: "68.1%"),
                PaperFigure(variant: "(d) all, incl. predictor output", result: "unstable (loss oscillates, not collapse)"),
            ], "Table 3: BN on the projection and prediction MLP heads. (a) alone uses a 10-epoch warm-up; "
                + "(c) without the learnable affine of the projector's output BN gives a comparable 68.2%.")
        case "similarity":
            return ([
                PaperFigure(variant: "cosine", result: "68.1%"),
                PaperFigure(variant: "cross-entropy", result: "63.2%"),
            ], "Section 4.5: D(p1, z2) = -softmax(z2) . log softmax(p1) over channels, symmetrised, "
                + "with every hyper-parameter unchanged (possibly suboptimal for it); it converges without collapsing.")
        case "alternation":
            return ([
                PaperFigure(variant: "1-step (equivalent to SimSiam)", result: "68.1%"),
                PaperFigure(variant: "10-step", result: "68.7%"),
                PaperFigure(variant: "100-step", result: "68.9%"),
                PaperFigure(variant: "1-epoch", result: "67.0%"),
            ], "Section 5 (Hypothesis), multi-step alternation: the targets eta_x = F_theta_t(T'(x)) for every image of "
                + "the next k SGD steps are pre-computed with the network of time t and cached; then k SGD steps update theta. "
                + "Same architecture (predictor included) and hyper-parameters as SimSiam. All variants work; 10 and 100 steps "
                + "even beat SimSiam, at the cost of the extra pre-computation: alternating optimisation is a valid formulation "
                + "and SimSiam is its one-step special case.")
        case "predictor-expectation":
            return ([
                PaperFigure(variant: "SimSiam (learned predictor)", result: "67.7% (table 1 baseline; 68.1% with the predictor lr not decayed)"),
                PaperFigure(variant: "no predictor", result: "0.1% (table 1a: collapse)"),
                PaperFigure(variant: "no predictor, moving-average eta (m 0.8)", result: "55.0%"),
            ], "Section 5.2, \"Expectation over augmentations\": without the predictor h, eta_x is not assigned "
                + "F_theta_t(T'(x)) but kept as a moving average eta_x^t <- m * eta_x^{t-1} + (1 - m) * F_theta_t(T'(x)), "
                + "m = 0.8, like a memory bank; it reaches 55.0%, where removing h without the moving average fails "
                + "completely (table 1a). So the predictor is related to approximating the expectation E_T[.] that the "
                + "one-sample target F_theta_t(T'(x)) ignores.")
        default:  // "symmetry"
            return ([
                PaperFigure(variant: "symmetric", result: "68.1%"),
                PaperFigure(variant: "asymmetric", result: "64.8%"),
                PaperFigure(variant: "asymmetric 2x", result: "67.3%"),
            ], "Section 4.6: the asymmetric loss D(p1, stopgrad(z2)) alone; \"2x\" samples two pairs per image "
                + "to match the symmetric loss's predictions. Symmetry helps accuracy but is unrelated to collapse.")
        }
    }

    /// `study` as one of ``studies``, or nil.
    static func canonicalStudy(_ study: String) -> String? {
        let key = study.lowercased().filter { !" -_".contains($0) }
        let aliases: [String: String] = [
            "stopgradient": "stop-gradient", "stopgrad": "stop-gradient", "sg": "stop-gradient",
            "predictor": "predictor", "pred": "predictor",
            "batchsize": "batch-size", "batch": "batch-size",
            "bn": "bn", "batchnorm": "bn", "batchnormalization": "bn", "bnplacement": "bn",
            "similarity": "similarity", "sim": "similarity",
            "symmetry": "symmetry", "symmetrization": "symmetry", "symmetrisation": "symmetry", "sym": "symmetry",
            "alternation": "alternation", "multistepalternation": "alternation", "em": "alternation",
            "predictorexpectation": "predictor-expectation", "expectationoveraugmentations": "predictor-expectation",
            "movingaverage": "predictor-expectation",
        ]
        return aliases[key]
    }
}
