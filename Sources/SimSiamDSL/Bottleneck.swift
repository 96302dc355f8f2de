/// torchvision's Bottleneck (ResNet v1.5, the stride on the 3x3): conv1x1-BN-ReLU,
/// conv3x3(stride)-BN-ReLU, conv1x1 to `width * expansion` channels-BN, plus a
/// shortcut (identity, or conv1x1(stride)-BN when the stride or channel count
/// changes), then ReLU. The last BN starts at gamma 0 (zero-init residual, as the
/// SimSiam code's `zero_init_residual=True`).
public struct Bottleneck: Layer {
    /// Output channels per `width` (torchvision's `Bottleneck.expansion`).
    public static let expansion = 4

    public let name: String
    /// `width * expansion`.
    public let outChannels: Int
    let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm, conv3: Conv2d, bn3: BatchNorm
    let downsample: (conv: Conv2d, bn: BatchNorm)?

    /// - Parameter width: the inner (3x3) channel count, torchvision's `planes`.
    public init(_ model: Model, _ name: String, _ inChannels: Int, width: Int, stride: Int) {
        self.name = name
        outChannels = width * Self.expansion
        conv1 = Conv2d(model, "\(name).conv1", inChannels, width, kernel: 1)
        bn1 = BatchNorm(model, "\(name).bn1", width)
        conv2 = Conv2d(model, "\(name).conv2", width, width, kernel: 3, stride: stride, padding: 1)
        bn2 = BatchNorm(model, "\(name).bn2", width)
        conv3 = Conv2d(model, "\(name).conv3", width, outChannels, kernel: 1)
        bn3 = BatchNorm(model, "\(name).bn3", outChannels, initialGamma: 0)
        downsample = stride == 1 && inChannels == outChannels ? nil : (
            Conv2d(model, "\(name).downsample.0", inChannels, outChannels, kernel: 1, stride: stride),
            BatchNorm(model, "\(name).downsample.1", outChannels))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let inner = bn2(conv2(bn1(conv1(x)).relu(label: "\(name).relu1"))).relu(label: "\(name).relu2")
        let branch = bn3(conv3(inner))
        let shortcut = downsample.map { $0.bn($0.conv(x)) } ?? x
        return branch.adding(shortcut, label: "\(name).residual").relu(label: "\(name).relu3")
    }
}
