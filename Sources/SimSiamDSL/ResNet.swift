import SimSiamIR

/// torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN plus a shortcut
/// (identity, or conv1x1-BN when the stride or width changes), then ReLU.
/// The last BN starts at gamma 0 (zero-init residual).
public struct BasicBlock: Layer {
    public let name: String
    let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    let downsample: (conv: Conv2d, bn: BatchNorm)?

    public init(_ model: Model, _ name: String, _ inChannels: Int, _ outChannels: Int, stride: Int) {
        self.name = name
        conv1 = Conv2d(model, "\(name).conv1", inChannels, outChannels, kernel: 3, stride: stride, padding: 1)
        bn1 = BatchNorm(model, "\(name).bn1", outChannels)
        conv2 = Conv2d(model, "\(name).conv2", outChannels, outChannels, kernel: 3, padding: 1)
        bn2 = BatchNorm(model, "\(name).bn2", outChannels, initialGamma: 0)
        downsample = stride == 1 && inChannels == outChannels ? nil : (
            Conv2d(model, "\(name).downsample.0", inChannels, outChannels, kernel: 1, stride: stride),
            BatchNorm(model, "\(name).downsample.1", outChannels))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let branch = bn2(conv2(bn1(conv1(x)).relu(label: "\(name).relu1")))
        let shortcut = downsample.map { $0.bn($0.conv(x)) } ?? x
        return branch.adding(shortcut, label: "\(name).residual").relu(label: "\(name).relu2")
    }
}

/// A CIFAR-style ResNet backbone: conv3x3 stem - BN - ReLU (no max-pool),
/// stages of BasicBlocks named `layer1...`, global average pool.
public struct ResNet: Layer {
    /// `blocks` BasicBlocks of `width` channels; the first has stride `stride`.
    public struct Stage: Sendable {
        public var width: Int, blocks: Int, stride: Int
        public init(width: Int, blocks: Int, stride: Int) {
            self.width = width
            self.blocks = blocks
            self.stride = stride
        }
    }

    public let name: String
    public let featureDimension: Int
    let stem: Conv2d, stemBN: BatchNorm
    let blocks: [BasicBlock]

    public init(_ model: Model, _ name: String = "backbone", inputChannels: Int, stemWidth: Int, stages: [Stage]) {
        self.name = name
        stem = Conv2d(model, "\(name).conv1", inputChannels, stemWidth, kernel: 3, padding: 1)
        stemBN = BatchNorm(model, "\(name).bn1", stemWidth)
        var blocks: [BasicBlock] = []
        var channels = stemWidth
        for (stageIndex, stage) in stages.enumerated() {
            for blockIndex in 0..<stage.blocks {
                blocks.append(BasicBlock(model, "\(name).layer\(stageIndex + 1).\(blockIndex)", channels, stage.width,
                                         stride: blockIndex == 0 ? stage.stride : 1))
                channels = stage.width
            }
        }
        self.blocks = blocks
        featureDimension = channels
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let stemOut = stemBN(stem(x)).relu(label: "\(name).relu")
        return blocks.reduce(stemOut) { $1($0) }.globalAveragePool(label: "\(name).avgpool")
    }
}
