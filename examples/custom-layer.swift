// A model built from layers of its own, written with the public DSL only:
// each layer declares its parameters (state_dict name, shape, initialiser,
// trainable or frozen) when it is constructed and composes DSL ops when called.
//
//     simsiamc check-gradients --model examples/custom-layer.swift
//     simsiamc train --model examples/custom-layer.swift --epochs 1
import SimSiamDSL

/// conv3x3 + per-channel bias + ReLU, parameters declared by hand
/// (what `Conv2d(..., bias: true)` followed by `relu()` does for you).
struct ConvBiasReLU: Layer {
    let name: String
    let stride: Int
    let weight: Parameter
    let bias: Parameter

    init(_ m: Model, _ name: String, _ inChannels: Int, _ outChannels: Int, stride: Int = 1) {
        self.name = name
        self.stride = stride
        weight = m.parameter("\(name).weight", [outChannels, inChannels, 3, 3], initializer: .kaimingNormalFanOut)
        bias = m.parameter("\(name).bias", [outChannels], initializer: .constant(0))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(x.value(of: weight), stride: stride, padding: 1, label: name)
            .addingChannelBias(x.value(of: bias), label: "\(name).bias")
            .relu(label: "\(name).relu")
    }
}

/// A residual MLP on feature vectors: x + W2 relu(W1 x + b1).
struct ResidualMLP: Layer {
    let name: String
    let w1: Parameter, b1: Parameter, w2: Parameter

    init(_ m: Model, _ name: String, features: Int, hidden: Int) {
        self.name = name
        w1 = m.parameter("\(name).fc1.weight", [hidden, features], initializer: .uniformFanIn(fanIn: features))
        b1 = m.parameter("\(name).fc1.bias", [hidden], initializer: .uniformFanIn(fanIn: features))
        // Small, so the block begins close to the identity (zero would also zero fc1's gradient).
        w2 = m.parameter("\(name).fc2.weight", [features, hidden], initializer: .normal(std: 0.01))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x.linear(x.value(of: w1), bias: x.value(of: b1), label: "\(name).fc1").relu(label: "\(name).relu")
        return x.adding(h.linear(x.value(of: w2), label: "\(name).fc2"), label: "\(name).residual")
    }
}

/// Two strided convolutions, a max-pool, global average pooling and the residual MLP: 64 features.
struct SmallBackbone: Layer {
    let conv1: ConvBiasReLU, conv2: ConvBiasReLU, mlp: ResidualMLP

    init(_ m: Model) {
        conv1 = ConvBiasReLU(m, "backbone.conv1", 1, 32)
        conv2 = ConvBiasReLU(m, "backbone.conv2", 32, 64, stride: 2)
        mlp = ResidualMLP(m, "backbone.mlp", features: 64, hidden: 128)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let maps = conv2(conv1(x)).maxPool2d(kernel: 2, label: "backbone.pool")
        return mlp(maps.globalAveragePool(label: "backbone.avgpool"))
    }
}

let small = Workload(name: "custom-layers", defaultBatch: 64, baseLR: 0.06) { variant in
    let m = Model()
    return SimSiam(model: m, backbone: SmallBackbone(m),
                   projector: Heads.projector(m, 64, 256, layers: 2, norm: variant.headNorm),
                   predictor: Heads.predictor(m, 256, hidden: 64, variant: variant),
                   imageShape: [1, 28, 28], variant: variant)
}

describe(small)
