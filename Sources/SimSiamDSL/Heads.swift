/// The projection and prediction MLPs of SimSiam, with BN where the variant puts it.
enum Heads {
    /// `layers` Linear layers of `width`; all but the last followed by BN (with
    /// `norm` != none) and ReLU; the last by an affine-free BN with `hidden+output`
    /// or `all`. A Linear followed by BN has no trained bias (the BN cancels it):
    /// none before an affine BN, a frozen one (kept for the state_dict) before the output BN.
    static func projector(_ m: Model, _ features: Int, _ width: Int, layers: Int, norm: SimSiamVariant.HeadNorm) -> Sequential {
        let outputNorm = norm == .hiddenAndOutput || norm == .all
        return Sequential(m, "projector") { s in
            for layer in 0..<layers - 1 {
                hiddenLayer(s, layer == 0 ? features : width, width, norm: norm)
            }
            s.linear(width, width, bias: outputNorm ? .frozen : .trainable)
            if outputNorm { s.batchNorm(width, affine: false) }
        }
    }

    /// The bottleneck predictor, in its own optimizer group so its lr can differ;
    /// nil for `Predictor.none`.
    static func predictor(_ m: Model, _ width: Int, hidden: Int, variant: SimSiamVariant) -> Sequential? {
        guard variant.predictor != .none else { return nil }
        return m.inGroup("predictor") {
            Sequential(m, "predictor") { s in
                hiddenLayer(s, width, hidden, norm: variant.headNorm)
                s.linear(hidden, width, bias: variant.headNorm == .all ? .frozen : .trainable)
                if variant.headNorm == .all { s.batchNorm(width, affine: false) }
            }
        }
    }

    private static func hiddenLayer(_ s: SequentialBuilder, _ inFeatures: Int, _ outFeatures: Int, norm: SimSiamVariant.HeadNorm) {
        if norm == .none {
            s.linear(inFeatures, outFeatures)
        } else {
            s.linear(inFeatures, outFeatures, bias: .none)
            s.batchNorm(outFeatures)
        }
        s.relu()
    }
}
