import SimSiamIR

/// A SimSiam workload: the architecture plus its reference training recipe.
///
/// Built-in workloads and workloads made in Swift hold a DSL builder; a
/// workload read from a model-description file or a graph file holds a tracer
/// that asks the description's program for its graphs (see `ModelDescription`
/// in SimSiamC). Either way the compiler reaches it through `trace`.
public struct Workload: Sendable {
    public let name: String
    /// What the reference-workload spec calls it ("W1", "W2"), if it is one of its two.
    public let specName: String?
    public let defaultBatch: Int
    public let baseLR: Double
    public let weightDecay: Double
    /// [C, H, W] of one image.
    public let imageShape: Shape
    private let build: (@Sendable (SimSiamVariant) -> SimSiam)?
    private let tracer: @Sendable (SimSiamVariant, Int) throws -> TracedGraphs

    /// A workload written with the DSL: `build` makes a fresh model (new parameter
    /// table) for a variant; the recipe fields are the defaults of `train`.
    public init(name: String, defaultBatch: Int, baseLR: Double = 0.06, weightDecay: Double = 5e-4,
                build: @escaping @Sendable (SimSiamVariant) -> SimSiam) {
        self.init(name: name, specName: nil, defaultBatch: defaultBatch, baseLR: baseLR, weightDecay: weightDecay, build: build)
    }

    init(name: String, specName: String?, defaultBatch: Int, baseLR: Double, weightDecay: Double,
         build: @escaping @Sendable (SimSiamVariant) -> SimSiam) {
        self.name = name
        self.specName = specName
        self.defaultBatch = defaultBatch
        self.baseLR = baseLR
        self.weightDecay = weightDecay
        self.imageShape = build(.standard).imageShape
        self.build = build
        self.tracer = { variant, batch in
            let model = build(variant)
            return TracedGraphs(training: try model.trainingGraph(name: name, batch: batch),
                                features: try model.featureGraph(name: name + "-features", batch: batch))
        }
    }

    /// A workload whose graphs come from elsewhere (a model-description program, a graph file).
    public init(name: String, defaultBatch: Int, baseLR: Double, weightDecay: Double, imageShape: Shape,
                tracer: @escaping @Sendable (SimSiamVariant, Int) throws -> TracedGraphs) {
        self.name = name
        self.specName = nil
        self.defaultBatch = defaultBatch
        self.baseLR = baseLR
        self.weightDecay = weightDecay
        self.imageShape = imageShape
        self.build = nil
        self.tracer = tracer
    }

    /// The training graph (forward, both views) and the eval-mode feature graph
    /// of a variant at a batch size per view.
    public func trace(_ variant: SimSiamVariant = .standard, batch: Int) throws -> TracedGraphs {
        try tracer(variant, batch)
    }

    /// A fresh model (new parameter table) of a workload written with the DSL in
    /// this process, standard or an ablation variant. Described workloads have
    /// no such model here: use `trace`.
    public func makeModel(_ variant: SimSiamVariant = .standard) -> SimSiam {
        guard let build else { preconditionFailure("\(name) is described by a separate program; trace it with trace(_:batch:)") }
        return build(variant)
    }

    /// The two reference workloads, plus `tiny` for tests and fixtures.
    public static let all: [Workload] = [.fmnistResNetMini, .cifarResNet18, .tiny]

    /// The workload called `name`, or whose spec name is `name` in any case ("W1", "w2").
    public static func named(_ name: String) -> Workload? {
        all.first { $0.name == name || $0.specName?.lowercased() == name.lowercased() }
    }

    /// The names `named` accepts, for help texts and errors: "fmnist-resnet-mini (W1), ...".
    public static var choices: String {
        all.map { workload in workload.specName.map { "\(workload.name) (\($0))" } ?? workload.name }.joined(separator: ", ")
    }
}

/// The two graphs the compiler needs from a model: the training step's forward
/// pass (output "loss", both views) and the eval-mode backbone (output "features").
public struct TracedGraphs: Hashable, Sendable, Codable {
    public var training: Graph
    public var features: Graph

    public init(training: Graph, features: Graph) {
        self.training = training
        self.features = features
    }
}

extension Workload {
    /// W1: a 3-stage mini ResNet on 28x28 grey Fashion-MNIST, 3-layer projector.
    public static let fmnistResNetMini = Workload(name: "fmnist-resnet-mini", specName: "W1", defaultBatch: 256, baseLR: 0.06, weightDecay: 5e-4) { variant in
        let m = Model()
        let backbone = ResNet(m, inputChannels: 1, stemWidth: 32, stages: [
            .init(width: 32, blocks: 1, stride: 1), .init(width: 64, blocks: 1, stride: 2), .init(width: 128, blocks: 1, stride: 2),
        ])
        return SimSiam(model: m, backbone: backbone,
                       projector: Heads.projector(m, 128, 512, layers: 3, norm: variant.headNorm),
                       predictor: Heads.predictor(m, 512, hidden: 128, variant: variant), imageShape: [1, 28, 28], variant: variant)
    }

    /// W2: ResNet-18 (CIFAR variant) with the paper's 2-layer CIFAR projector.
    public static let cifarResNet18 = Workload(name: "cifar-resnet18", specName: "W2", defaultBatch: 512, baseLR: 0.03, weightDecay: 5e-4) { variant in
        let m = Model()
        let backbone = ResNet(m, inputChannels: 3, stemWidth: 64, stages: [
            .init(width: 64, blocks: 2, stride: 1), .init(width: 128, blocks: 2, stride: 2),
            .init(width: 256, blocks: 2, stride: 2), .init(width: 512, blocks: 2, stride: 2),
        ])
        return SimSiam(model: m, backbone: backbone,
                       projector: Heads.projector(m, 512, 2048, layers: 2, norm: variant.headNorm),
                       predictor: Heads.predictor(m, 2048, hidden: 512, variant: variant), imageShape: [3, 32, 32], variant: variant)
    }

    /// A few-thousand-parameter SimSiam with every feature of W1 (identity and
    /// downsampling shortcuts, 3-layer projector): gradient checks and fixtures.
    public static let tiny = Workload(name: "tiny", specName: nil, defaultBatch: 4, baseLR: 0.06, weightDecay: 5e-4) { variant in
        let m = Model()
        let backbone = ResNet(m, inputChannels: 1, stemWidth: 4, stages: [
            .init(width: 4, blocks: 1, stride: 1), .init(width: 8, blocks: 1, stride: 2),
        ])
        return SimSiam(model: m, backbone: backbone, projector: Heads.projector(m, 8, 16, layers: 3, norm: variant.headNorm),
                       predictor: Heads.predictor(m, 16, hidden: 4, variant: variant), imageShape: [1, 8, 8], variant: variant)
    }
}
