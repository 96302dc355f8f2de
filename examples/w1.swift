// W1 (fmnist-resnet-mini) written as a model description: the same graph as
// the built-in workload, so one `step` of either gives the same numbers.
//
//     simsiamc train --model examples/w1.swift --epochs 1
import SimSiamDSL

let w1 = Workload(name: "fmnist-resnet-mini", defaultBatch: 256, baseLR: 0.06, weightDecay: 5e-4) { variant in
    let m = Model()
    let backbone = ResNet(m, inputChannels: 1, stemWidth: 32, stages: [
        .init(width: 32, blocks: 1, stride: 1), .init(width: 64, blocks: 1, stride: 2), .init(width: 128, blocks: 1, stride: 2),
    ])
    return SimSiam(model: m, backbone: backbone,
                   projector: Heads.projector(m, 128, 512, layers: 3, norm: variant.headNorm),
                   predictor: Heads.predictor(m, 512, hidden: 128, variant: variant),
                   imageShape: [1, 28, 28], variant: variant)
}

describe(w1)
