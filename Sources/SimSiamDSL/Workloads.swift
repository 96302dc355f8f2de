import SimSiamIR

/// A SimSiam workload: the architecture plus its reference training recipe.
public struct Workload: Sendable {
    public let name: String
    public let defaultBatch: Int
    public let baseLR: Double
    public let weightDecay: Double
    let build: @Sendable () -> SimSiam

    /// A fresh model (new parameter table) of this workload.
    public func makeModel() -> SimSiam { build() }

    /// The two reference workloads, plus `tiny` for tests and fixtures.
    public static let all: [Workload] = [.fmnistResNetMini, .cifarResNet18, .tiny]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }
}

extension Workload {
    /// W1: a 3-stage mini ResNet on 28x28 grey Fashion-MNIST, 3-layer projector.
    public static let fmnistResNetMini = Workload(name: "fmnist-resnet-mini", defaultBatch: 256, baseLR: 0.06, weightDecay: 5e-4) {
        let m = Model()
        let backbone = ResNet(m, inputChannels: 1, stemWidth: 32, stages: [
            .init(width: 32, blocks: 1, stride: 1), .init(width: 64, blocks: 1, stride: 2), .init(width: 128, blocks: 1, stride: 2),
        ])
        return SimSiam(model: m, backbone: backbone, projector: threeLayerProjector(m, 128, 512),
                       predictor: predictor(m, 512, hidden: 128), imageShape: [1, 28, 28])
    }

    /// W2: ResNet-18 (CIFAR variant) with the paper's 2-layer CIFAR projector.
    public static let cifarResNet18 = Workload(name: "cifar-resnet18", defaultBatch: 512, baseLR: 0.03, weightDecay: 5e-4) {
        let m = Model()
        let backbone = ResNet(m, inputChannels: 3, stemWidth: 64, stages: [
            .init(width: 64, blocks: 2, stride: 1), .init(width: 128, blocks: 2, stride: 2),
            .init(width: 256, blocks: 2, stride: 2), .init(width: 512, blocks: 2, stride: 2),
        ])
        let projector = Sequential(m, "projector") { s in
            s.linear(512, 2048, bias: .none); s.batchNorm(2048); s.relu()
            s.linear(2048, 2048, bias: .frozen); s.batchNorm(2048, affine: false)
        }
        return SimSiam(model: m, backbone: backbone, projector: projector, predictor: predictor(m, 2048, hidden: 512),
                       imageShape: [3, 32, 32])
    }

    /// A few-thousand-parameter SimSiam with every feature of W1 (identity and
    /// downsampling shortcuts, 3-layer projector): gradient checks and fixtures.
    public static let tiny = Workload(name: "tiny", defaultBatch: 4, baseLR: 0.06, weightDecay: 5e-4) {
        let m = Model()
        let backbone = ResNet(m, inputChannels: 1, stemWidth: 4, stages: [
            .init(width: 4, blocks: 1, stride: 1), .init(width: 8, blocks: 1, stride: 2),
        ])
        return SimSiam(model: m, backbone: backbone, projector: threeLayerProjector(m, 8, 16),
                       predictor: predictor(m, 16, hidden: 4), imageShape: [1, 8, 8])
    }

    /// Linear-BN-ReLU twice, then Linear (bias frozen: the BN after it cancels it) - BN without affine.
    static func threeLayerProjector(_ m: Model, _ features: Int, _ width: Int) -> Sequential {
        Sequential(m, "projector") { s in
            s.linear(features, width, bias: .none); s.batchNorm(width); s.relu()
            s.linear(width, width, bias: .none); s.batchNorm(width); s.relu()
            s.linear(width, width, bias: .frozen); s.batchNorm(width, affine: false)
        }
    }

    /// The bottleneck predictor, in its own optimizer group so its lr can stay fixed.
    static func predictor(_ m: Model, _ width: Int, hidden: Int) -> Sequential {
        m.inGroup("predictor") {
            Sequential(m, "predictor") { s in
                s.linear(width, hidden, bias: .none); s.batchNorm(hidden); s.relu()
                s.linear(hidden, width)
            }
        }
    }
}
