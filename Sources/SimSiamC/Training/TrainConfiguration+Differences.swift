import Foundation

extension TrainConfiguration {
    /// One field that differs between two configurations, named by the flag that sets it.
    public struct Difference: Equatable, Sendable, CustomStringConvertible {
        public var flag: String
        public var stored: String
        public var requested: String

        public var description: String { "\(flag) \(stored) in the checkpoint, \(requested) now" }
    }

    /// The fields a resumed run may change: a lower lr is how a run that
    /// diverged goes on from its last good checkpoint.
    static let changeableOnResume: Set<String> = ["--lr"]

    /// The fields of `self` (a checkpoint's) that `requested` sets differently, by flag.
    public func differences(from requested: TrainConfiguration) -> [Difference] {
        func describe(_ value: Any?) -> String { value.map { "\($0)" } ?? "none" }
        let fields: [(String, Any?, Any?)] = [
            ("--workload", workload, requested.workload), ("--epochs", epochs, requested.epochs),
            ("--batch", batch, requested.batch), ("--lr", baseLR, requested.baseLR),
            ("--weight-decay", weightDecay, requested.weightDecay), ("momentum", momentum, requested.momentum),
            ("--fix-pred-lr", fixPredictorLR, requested.fixPredictorLR), ("--warmup-epochs", warmupEpochs, requested.warmupEpochs),
            ("--seed", seed, requested.seed), ("--subset", subset, requested.subset),
            ("--data", dataDirectory, requested.dataDirectory), ("--crop-min-scale", cropMinScale, requested.cropMinScale),
            ("--jitter", jitterStrength, requested.jitterStrength), ("jitter probability", jitterProbability, requested.jitterProbability),
            ("variant", variant.summary, requested.variant.summary),
            ("--eval-data", evalData, requested.evalData), ("--labels", labelsFile, requested.labelsFile),
            ("--eval-labels", evalLabelsFile, requested.evalLabelsFile),
            ("--skip-bad-images", skipBadImages ?? false, requested.skipBadImages ?? false),
            ("--mean", normalizationMean, requested.normalizationMean), ("--std", normalizationStd, requested.normalizationStd),
            ("--init", initFile, requested.initFile), ("--alternate-every", alternation, requested.alternation),
        ]
        let changed = fields.compactMap { flag, stored, now in
            let (a, b) = (describe(stored), describe(now))
            return a == b ? nil : Difference(flag: flag, stored: a, requested: b)
        }
        // A description file may move or gain comments; what must not change is the graph it traces.
        let modelChanged = model?.graphHash != requested.model?.graphHash
        return changed + (modelChanged ? [Difference(flag: model?.flag ?? requested.model?.flag ?? "--model",
                                                     stored: describe(model), requested: describe(requested.model))] : [])
    }
}
