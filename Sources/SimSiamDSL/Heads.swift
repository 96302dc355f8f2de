/// SimSiam's MLP heads, BN where the variant puts it, named as `nn.Sequential` indices; after a ResNet-50: `Heads.projector(m, 2048, 2048, layers: 3)`, `Heads.predictor(m, 2048, hidden: 512)`.
public enum Heads {
    /// The projector: `layers` Linear layers of `width` on `features` inputs; all but the last followed by BN (unless `norm`
    /// is `.none`) and ReLU; the last by an affine-free BN with `.hiddenAndOutput` (default) or `.all`. A Linear followed by
    /// BN has no trained bias (the BN cancels it): none before an affine BN, a frozen one (kept for the state_dict) before the
    /// output BN.
    public static func projector(_ m: Model, _ features: Int, _ width: Int, layers: Int, norm: SimSiamVariant.HeadNorm = .hiddenAndOutput) -> Sequential {
        let outputNorm = norm == .hiddenAndOutput || norm == .all
        return Sequential(m, "projector") { s in
            for layer in 0..<layers - 1 {
                hiddenLayer(s, layer == 0 ? features : width, width, norm: norm)
            }
            s.linear(layers == 1 ? features : width, width, bias: outputNorm ? .frozen : .trainable)
            if outputNorm { s.batchNorm(width, affine: false) }
        }
    }

    /// The predictor `width` -> `hidden` -> `width` (Linear-BN-ReLU-Linear), in its own optimizer group "predictor" so its
    /// lr can differ; nil when the variant has no predictor (`Predictor.none`).
    public static func predictor(_ m: Model, _ width: Int, hidden: Int, variant: SimSiamVariant = .standard) -> Sequential? {
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

// Generated/ records the DSL line of each layer: the lines above keep their numbers.
