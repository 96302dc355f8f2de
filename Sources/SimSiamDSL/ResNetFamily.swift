/// torchvision's ImageNet ResNets (`torchvision.models.resnetXX`) without `fc`,
/// with zero-init residual BNs: the same state_dict names and shapes under
/// `name` (`backbone.conv1.weight`, ..., `backbone.layer4.2.bn3.running_var`).
extension ResNet {
    /// torchvision's `ResNet(block, layers)`: the ImageNet stem, then stages 64, 128, 256, 512
    /// wide (the last three at stride 2) of `blocks[i]` blocks each.
    public static func imageNet(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3, block: Block,
                                blocks: [Int]) -> ResNet {
        precondition(blocks.count == 4, "ResNet.imageNet: four stages of blocks, got \(blocks)")
        let stages = zip([64, 128, 256, 512], blocks).enumerated().map { index, stage in
            Stage(width: stage.0, blocks: stage.1, stride: index == 0 ? 1 : 2)
        }
        return ResNet(model, name, imageNetStemFrom: inputChannels, block: block, stages: stages)
    }

    /// ResNet-18: BasicBlocks [2, 2, 2, 2], 512 features.
    public static func resnet18(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3) -> ResNet {
        imageNet(model, name, inputChannels: inputChannels, block: .basic, blocks: [2, 2, 2, 2])
    }

    /// ResNet-34: BasicBlocks [3, 4, 6, 3], 512 features.
    public static func resnet34(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3) -> ResNet {
        imageNet(model, name, inputChannels: inputChannels, block: .basic, blocks: [3, 4, 6, 3])
    }

    /// ResNet-50: Bottlenecks [3, 4, 6, 3], 2048 features (SimSiam's ImageNet backbone).
    public static func resnet50(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3) -> ResNet {
        imageNet(model, name, inputChannels: inputChannels, block: .bottleneck, blocks: [3, 4, 6, 3])
    }

    /// ResNet-101: Bottlenecks [3, 4, 23, 3], 2048 features.
    public static func resnet101(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3) -> ResNet {
        imageNet(model, name, inputChannels: inputChannels, block: .bottleneck, blocks: [3, 4, 23, 3])
    }

    /// ResNet-152: Bottlenecks [3, 8, 36, 3], 2048 features.
    public static func resnet152(_ model: Model, _ name: String = "backbone", inputChannels: Int = 3) -> ResNet {
        imageNet(model, name, inputChannels: inputChannels, block: .bottleneck, blocks: [3, 8, 36, 3])
    }
}
