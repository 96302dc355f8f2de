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

/// A ResNet backbone named as torchvision's (`conv1`, `bn1`, `layer1.0.conv1`, ...; no `fc`, the projector replaces it): a
/// stem, stages of residual blocks `layer1...`, global average pool. This init: the CIFAR stem; ImageNet: `ResNet.resnet50(m)`.
public struct ResNet: Layer {
    /// `blocks` residual blocks of `width` (for Bottlenecks the inner width, put out x4); the first has stride `stride`.
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
    let stem: Conv2d, stemBN: BatchNorm, stemPool: MaxPool2d?
    let blocks: [any Layer]

    public init(_ model: Model, _ name: String = "backbone", inputChannels: Int, stemWidth: Int, stages: [Stage]) {
        self.name = name
        stem = Conv2d(model, "\(name).conv1", inputChannels, stemWidth, kernel: 3, padding: 1)
        stemBN = BatchNorm(model, "\(name).bn1", stemWidth)
        stemPool = nil
        (blocks, featureDimension) = Self.stages(model, name, from: stemWidth, stages, block: .basic)
    }

    /// torchvision's stem: conv7x7 (stride 2, padding 3) - BN - ReLU - max-pool 3x3 (stride 2, padding 1), then `stages`.
    public init(_ model: Model, _ name: String = "backbone", imageNetStemFrom inputChannels: Int, stemWidth: Int = 64, block: Block, stages: [Stage]) {
        self.name = name
        stem = Conv2d(model, "\(name).conv1", inputChannels, stemWidth, kernel: 7, stride: 2, padding: 3)
        stemBN = BatchNorm(model, "\(name).bn1", stemWidth)
        stemPool = MaxPool2d("\(name).maxpool", kernel: 3, stride: 2, padding: 1)
        (blocks, featureDimension) = Self.stages(model, name, from: stemWidth, stages, block: block)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let stemOut = stemBN(stem(x)).relu(label: "\(name).relu")
        return blocks.reduce(stemPool.map { $0(stemOut) } ?? stemOut) { $1($0) }.globalAveragePool(label: "\(name).avgpool")
    }

    // Generated/ records the DSL line of each layer: the lines above keep their numbers, new code goes below.

    /// The residual block of every stage.
    public enum Block: Sendable {
        /// torchvision's BasicBlock (ResNet-18/34).
        case basic
        /// torchvision's Bottleneck (ResNet-50 and deeper).
        case bottleneck
    }

    /// The blocks of `stages` on `channels` input channels, and the channels they put out.
    static func stages(_ model: Model, _ name: String, from channels: Int, _ stages: [Stage], block: Block) -> ([any Layer], Int) {
        var blocks: [any Layer] = []
        var channels = channels
        for (stageIndex, stage) in stages.enumerated() {
            for blockIndex in 0..<stage.blocks {
                let blockName = "\(name).layer\(stageIndex + 1).\(blockIndex)", stride = blockIndex == 0 ? stage.stride : 1
                switch block {
                case .basic:
                    blocks.append(BasicBlock(model, blockName, channels, stage.width, stride: stride))
                    channels = stage.width
                case .bottleneck:
                    let bottleneck = Bottleneck(model, blockName, channels, width: stage.width, stride: stride)
                    blocks.append(bottleneck)
                    channels = bottleneck.outChannels
                }
            }
        }
        return (blocks, channels)
    }
}
