import SimSiamIR

/// A SimSiam model: encoder f = projector(backbone(x)), predictor h, and the
/// symmetric negative-cosine loss with stop-gradient on the targets, or one of
/// the paper's ablations of it (`variant`).
public struct SimSiam {
    public let model: Model
    public let backbone: any Layer
    public let projector: any Layer
    /// nil when the variant has no predictor (p = z).
    public let predictor: (any Layer)?
    /// [C, H, W] of one image.
    public let imageShape: Shape
    public var variant: SimSiamVariant

    public init(model: Model, backbone: any Layer, projector: any Layer, predictor: (any Layer)?, imageShape: Shape,
                variant: SimSiamVariant = .standard) {
        self.model = model
        self.backbone = backbone
        self.projector = projector
        self.predictor = predictor
        self.imageShape = imageShape
        self.variant = variant
    }

    /// Detach the targets z1, z2 (the paper's default). Turning it off makes
    /// gradients flow through both branches (the collapse ablation).
    public var stopGradient: Bool {
        get { variant.stopGradient }
        set { variant.stopGradient = newValue }
    }

    /// The forward pass of one training step on two views `x1`, `x2`, each
    /// through the encoder as its own batch (per-view BN statistics), with
    /// output "loss" = -(D(p1, sg(z2)) + D(p2, sg(z1))) / 2, batch-averaged
    /// (-D(p1, sg(z2)) when asymmetric; D is the variant's similarity), and
    /// output "z1" (view 1's projection) for the collapse monitor.
    ///
    /// With `.cached` targets the graph has two more inputs, "eta1" and "eta2"
    /// ([batch, d] each: the projections of x1 and x2 by an earlier network,
    /// the paper's eta_x = F_theta_t(T'(x))), which replace sg(z1), sg(z2) in the
    /// loss, and a second output "z2", so that one step with zero learning
    /// rates yields both targets. Inputs carry no gradient, so the backward
    /// reaches the encoder through the predictions only, as with stop-gradient.
    ///
    /// With `.movingAverage` targets the graph has one more input, "eta" ([batch, d]:
    /// each image's moving average eta_x^{t-1} from its earlier visits), and the
    /// target of p1 is m * eta + (1 - m) * sg(z2), that of p2 m * eta + (1 - m) * sg(z1);
    /// "z2" is an output too, so that the trainer can update its store.
    public func trainingGraph(name: String, batch: Int) throws -> Graph {
        let g = GraphBuilder(name: name, model: model, training: true)
        let x1 = g.input("x1", Shape([batch] + imageShape.dims))
        let x2 = g.input("x2", Shape([batch] + imageShape.dims))
        let z1 = projector(backbone(x1))
        let z2 = projector(backbone(x2))
        let symmetric = variant.symmetry == .symmetric
        let p1 = predict(z1)
        let p2 = symmetric ? predict(z2) : nil
        let target1: Tensor?, target2: Tensor
        switch variant.targets {
        case .cached:
            // Both inputs exist even for an asymmetric loss, so that every cached graph takes the same inputs.
            let eta1 = g.input("eta1", Shape([batch, z1.shape.dims.last!]))
            target2 = g.input("eta2", Shape([batch, z2.shape.dims.last!]))
            target1 = symmetric ? eta1 : nil
        case .movingAverage:
            // eta_x^t = m * eta_x^{t-1} + (1 - m) * F_theta_t(T'(x)), T' the other view; the input is a constant.
            let eta = g.input("eta", Shape([batch, z1.shape.dims.last!]))
            let m = variant.etaMomentum
            let kept = eta.scaled(by: m, label: "loss.eta_kept")
            target2 = kept.adding(target(z2, label: "loss.target_z2").scaled(by: 1 - m, label: "loss.eta_new_z2"),
                                  label: "loss.eta_z2")
            target1 = symmetric ? kept.adding(target(z1, label: "loss.target_z1").scaled(by: 1 - m, label: "loss.eta_new_z1"),
                                              label: "loss.eta_z1") : nil
        case .online:
            target1 = symmetric ? target(z1, label: "loss.target_z1") : nil
            target2 = target(z2, label: "loss.target_z2")
        }
        let similarity1 = similarity(p1, target2, "p1_z2")
        if let p2, let target1 {
            let similarity2 = similarity(p2, target1, "p2_z1")
            g.output("loss", similarity1.adding(similarity2, label: "loss.sum").scaled(by: -0.5, label: "loss.negate_half"))
        } else {
            g.output("loss", similarity1.scaled(by: -1, label: "loss.negate"))
        }
        g.output("z1", z1)
        if variant.targets != .online { g.output("z2", z2) }
        return try g.finish()
    }

    private func predict(_ z: Tensor) -> Tensor { predictor.map { $0(z) } ?? z }

    private func target(_ z: Tensor, label: String) -> Tensor { variant.stopGradient ? z.stopGradient(label: label) : z }

    /// The batch mean of the variant's similarity between prediction `p` and target `z`.
    private func similarity(_ p: Tensor, _ z: Tensor, _ pair: String) -> Tensor {
        switch variant.similarity {
        case .cosine: p.cosineSimilarity(z, label: "loss.cos_\(pair)").mean(label: "loss.mean_\(pair)")
        case .crossEntropy: p.crossEntropySimilarity(z, label: "loss.ce_\(pair)").mean(label: "loss.mean_\(pair)")
        }
    }

    /// The eval-mode backbone (BN with running statistics): output "features".
    public func featureGraph(name: String, batch: Int) throws -> Graph {
        let g = GraphBuilder(name: name, model: model, training: false)
        g.output("features", backbone(g.input("x", Shape([batch] + imageShape.dims))))
        return try g.finish()
    }
}
