// The paper's SimSiam: a torchvision ResNet-50 backbone (state_dict names equal
// torchvision's), a 3-layer 2048-wide projector and a 2048-512-2048 predictor,
// here on small 3x64x64 inputs so that a step runs in seconds on a CPU.
//
//     simsiamc step --model examples/resnet50.swift --views VIEWS.safetensors --out OUT.safetensors
import SimSiamDSL

let simsiamResNet50 = Workload(name: "simsiam-resnet50", defaultBatch: 8, baseLR: 0.05, weightDecay: 1e-4) { variant in
    let m = Model()
    let backbone = ResNet.resnet50(m, inputChannels: 3)
    return SimSiam(model: m, backbone: backbone,
                   projector: Heads.projector(m, backbone.featureDimension, 2048, layers: 3, norm: variant.headNorm),
                   predictor: Heads.predictor(m, 2048, hidden: 512, variant: variant),
                   imageShape: [3, 64, 64], variant: variant)
}

describe(simsiamResNet50)
