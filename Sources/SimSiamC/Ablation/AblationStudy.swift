import Foundation

/// One of the SimSiam paper's ablation studies: the variants it trains, each
/// a change to a base training configuration.
public struct AblationStudy: Sendable {
    /// One variant: its row name, the `train` flags that select it, and the change.
    public struct Variant: Sendable {
        public var name: String
        public var flags: String
        public var apply: @Sendable (inout TrainConfiguration) -> Void
    }

    public let name: String
    public let title: String
    public let variants: [Variant]

    public static let names = all.map(\.name)

    public static func named(_ name: String) -> AblationStudy? { all.first { $0.name == name } }

    public static let all: [AblationStudy] = [
        AblationStudy(name: "stop-gradient", title: "Stop-gradient (paper figure 2)", variants: [
            Variant(name: "with stop-gradient", flags: "") { _ in },
            Variant(name: "without stop-gradient", flags: "--no-stop-gradient") { $0.variant.stopGradient = false },
        ]),
        AblationStudy(name: "predictor", title: "Predictor (paper table 1)", variants: [
            Variant(name: "learned, lr decayed", flags: "") { _ in },
            Variant(name: "no predictor", flags: "--predictor none") { $0.variant.predictor = .none },
            Variant(name: "fixed random init", flags: "--predictor frozen") { $0.variant.predictor = .frozen },
            Variant(name: "learned, lr not decayed", flags: "--fix-pred-lr") { $0.fixPredictorLR = true },
        ]),
        AblationStudy(name: "bn", title: "BN in the projection and prediction MLPs (paper table 3)", variants:
            SimSiamVariant.HeadNorm.allCases.map { norm in
                Variant(name: "BN: \(norm.rawValue)", flags: norm == .hiddenAndOutput ? "" : "--head-bn \(norm.rawValue)") {
                    $0.variant.headNorm = norm
                }
            }),
        AblationStudy(name: "similarity", title: "Similarity function (paper section 4.5)", variants: [
            Variant(name: "cosine", flags: "") { _ in },
            Variant(name: "cross-entropy", flags: "--similarity cross-entropy") { $0.variant.similarity = .crossEntropy },
        ]),
        AblationStudy(name: "symmetry", title: "Symmetrisation (paper section 4.6)", variants:
            SimSiamVariant.Symmetry.allCases.map { symmetry in
                Variant(name: symmetry.rawValue, flags: symmetry == .symmetric ? "" : "--loss \(symmetry.rawValue)") {
                    $0.variant.symmetry = symmetry
                }
            }),
        AblationStudy(name: "batch", title: "Batch size, lr = base lr x batch / 256 (paper table 2)", variants:
            [64, 128, 256, 512].map { batch in
                Variant(name: "batch \(batch)", flags: "--batch \(batch)") { $0.batch = batch }
            }),
        AblationStudy(name: "alternation", title: "Multi-step alternation (paper section 5, the EM hypothesis)", variants:
            [AlternationInterval.steps(1), .steps(10), .steps(100), .epoch].map(alternationVariant)),
        AblationStudy(name: "predictor-expectation",
                      title: "The predictor as an expectation over augmentations (paper section 5.2)", variants: [
            Variant(name: "SimSiam (learned predictor)", flags: "") { _ in },
            Variant(name: "no predictor", flags: "--predictor none") { $0.variant.predictor = .none },
            Variant(name: "no predictor, moving-average eta (m 0.8)", flags: "--predictor none --eta-momentum 0.8") {
                $0.variant.predictor = .none
                $0.variant.targets = .movingAverage
                $0.variant.etaMomentum = 0.8
            },
        ]),
    ]

    /// The alternation study's variant for `interval`, named as the paper's table: "10-step", "1-epoch".
    static func alternationVariant(_ interval: AlternationInterval) -> Variant {
        let name: String = interval == .epoch ? "1-epoch" : interval.argument + "-step"
        return Variant(name: name, flags: "--alternate-every " + interval.argument) { configuration in
            configuration.variant.targets = .cached
            configuration.alternation = interval
        }
    }

    /// The `train` flag of a non-standard `base` that this study sets per variant and so would
    /// silently override (e.g. `--no-stop-gradient` for the stop-gradient study), or nil.
    public func flagOverridden(inBase base: SimSiamVariant) -> String? {
        let standard = SimSiamVariant.standard
        switch name {
        case "stop-gradient" where base.stopGradient != standard.stopGradient: return "--no-stop-gradient"
        case "predictor" where base.predictor != standard.predictor: return "--predictor"
        case "bn" where base.headNorm != standard.headNorm: return "--head-bn"
        case "similarity" where base.similarity != standard.similarity: return "--similarity"
        case "symmetry" where base.symmetry != standard.symmetry: return "--loss"
        case "alternation" where base.targets != standard.targets: return "--alternate-every"
        case "predictor-expectation" where base.predictor != standard.predictor: return "--predictor"
        case "predictor-expectation" where base.targets != standard.targets: return base.targets == .cached ? "--alternate-every" : "--eta-momentum"
        default: return nil
        }
    }

    /// The configuration of each variant: `base` with the variant's change.
    public func configurations(base: TrainConfiguration) -> [(variant: Variant, configuration: TrainConfiguration)] {
        variants.map { variant in
            var configuration = base
            variant.apply(&configuration)
            return (variant, configuration)
        }
    }

    /// A variant's run directory name: "without stop-gradient" -> "without-stop-gradient".
    public static func directoryName(_ variant: Variant) -> String { slug(variant.name) }

    /// `text` as a file name: "head BN hidden, no stop-gradient" -> "head-bn-hidden-no-stop-gradient".
    public static func slug(_ text: String) -> String {
        String(text.lowercased().map { $0.isLetter || $0.isNumber || $0 == "+" ? $0 : "-" })
            .split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
    }
}
