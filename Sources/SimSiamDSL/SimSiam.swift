import SimSiamIR

/// A SimSiam model: encoder f = projector(backbone(x)), predictor h, and the
/// symmetric negative-cosine loss with stop-gradient on the targets.
public struct SimSiam {
    public let model: Model
    public let backbone: any Layer
    public let projector: any Layer
    public let predictor: any Layer
    /// [C, H, W] of one image.
    public let imageShape: Shape
    /// Detach the targets z1, z2 (the paper's default). Turning it off makes
    /// gradients flow through both branches (the collapse ablation).
    public var stopGradient: Bool

    public init(model: Model, backbone: any Layer, projector: any Layer, predictor: any Layer, imageShape: Shape,
                stopGradient: Bool = true) {
        self.model = model
        self.backbone = backbone
        self.projector = projector
        self.predictor = predictor
        self.imageShape = imageShape
        self.stopGradient = stopGradient
    }

    /// The forward pass of one training step on two views `x1`, `x2`, each
    /// through the encoder as its own batch (per-view BN statistics), with
    /// output "loss" = -(cos(p1, sg(z2)) + cos(p2, sg(z1))) / 2, batch-averaged,
    /// and output "z1" (view 1's projection) for the collapse monitor.
    public func trainingGraph(name: String, batch: Int) throws -> Graph {
        let g = GraphBuilder(name: name, model: model, training: true)
        let x1 = g.input("x1", Shape([batch] + imageShape.dims))
        let x2 = g.input("x2", Shape([batch] + imageShape.dims))
        let z1 = projector(backbone(x1))
        let z2 = projector(backbone(x2))
        let p1 = predictor(z1)
        let p2 = predictor(z2)
        let target1 = stopGradient ? z1.stopGradient(label: "loss.target_z1") : z1
        let target2 = stopGradient ? z2.stopGradient(label: "loss.target_z2") : z2
        let similarity1 = p1.cosineSimilarity(target2, label: "loss.cos_p1_z2").mean(label: "loss.mean_p1_z2")
        let similarity2 = p2.cosineSimilarity(target1, label: "loss.cos_p2_z1").mean(label: "loss.mean_p2_z1")
        g.output("loss", similarity1.adding(similarity2, label: "loss.sum").scaled(by: -0.5, label: "loss.negate_half"))
        g.output("z1", z1)
        return try g.finish()
    }

    /// The eval-mode backbone (BN with running statistics): output "features".
    public func featureGraph(name: String, batch: Int) throws -> Graph {
        let g = GraphBuilder(name: name, model: model, training: false)
        g.output("features", backbone(g.input("x", Shape([batch] + imageShape.dims))))
        return try g.finish()
    }
}
