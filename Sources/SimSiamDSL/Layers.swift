import SimSiamIR

/// Something that maps a tensor to a tensor with parameters declared in a `Model`.
public protocol Layer {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// conv2d, without a bias by default (every convolution of the reference workloads).
/// With `bias: true` it also declares `<name>.bias` [out], initialised like PyTorch's
/// Conv2d bias: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in * kernel * kernel.
public struct Conv2d: Layer {
    public let name: String
    public let stride: Int
    public let padding: Int
    let weight: Int
    let bias: Int?
    let origin: SourceLocation

    public init(_ model: Model, _ name: String, _ inChannels: Int, _ outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, bias: Bool = false, file: String = #fileID, line: Int = #line) {
        self.name = name
        self.stride = stride
        self.padding = padding
        self.weight = model.declareParameter("\(name).weight", [outChannels, inChannels, kernel, kernel], .kaimingNormalFanOut)
        self.bias = bias ? model.declareParameter("\(name).bias", [outChannels], .uniformFanIn(fanIn: inChannels * kernel * kernel)) : nil
        self.origin = SourceLocation(fileID: file, line: line)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.conv2d(x.builder.parameter(weight), stride: stride, padding: padding, label: name,
                         file: origin.fileID, line: origin.line)
        // A separate op keeps the convolution kernels (and graphs without a bias) unchanged.
        return bias.map { y.addingChannelBias(x.builder.parameter($0), label: name, file: origin.fileID, line: origin.line) } ?? y
    }
}

/// PyTorch's MaxPool2d (floor mode, padding counts as -inf, ties to the first maximum).
public struct MaxPool2d: Layer {
    public let name: String
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    let origin: SourceLocation

    /// `stride` defaults to `kernel`, as in PyTorch; `padding` may be at most kernel / 2.
    public init(_ name: String, kernel: Int, stride: Int? = nil, padding: Int = 0, file: String = #fileID, line: Int = #line) {
        self.name = name
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.origin = SourceLocation(fileID: file, line: line)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.maxPool2d(kernel: kernel, stride: stride, padding: padding, label: name, file: origin.fileID, line: origin.line)
    }
}

/// BatchNorm1d/2d (by input rank) with running statistics and
/// `num_batches_tracked`; affine or not. The mode comes from the graph being
/// traced: training graphs normalise per batch (so per view) and update the
/// running estimates, feature graphs use them.
public struct BatchNorm: Layer {
    public let name: String
    let gamma: Int?
    let beta: Int?
    let runningMean: Int
    let runningVar: Int
    let counter: Int
    let origin: SourceLocation

    /// - Parameter initialGamma: 0 for the zero-init residual BN.
    public init(_ model: Model, _ name: String, _ channels: Int, affine: Bool = true, initialGamma: Double = 1,
                file: String = #fileID, line: Int = #line) {
        self.name = name
        self.gamma = affine ? model.declareParameter("\(name).weight", [channels], .constant(initialGamma)) : nil
        self.beta = affine ? model.declareParameter("\(name).bias", [channels], .constant(0)) : nil
        self.runningMean = model.declareBuffer("\(name).running_mean", [channels], role: .runningMean)
        self.runningVar = model.declareBuffer("\(name).running_var", [channels], role: .runningVar)
        self.counter = model.declareCounter("\(name).num_batches_tracked")
        self.origin = SourceLocation(fileID: file, line: line)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let attributes = BatchNormAttributes(
            training: x.builder.training, runningMean: runningMean, runningVar: runningVar, counter: counter,
            affine: gamma != nil)
        return x.batchNorm(attributes, gamma: gamma.map(x.builder.parameter), beta: beta.map(x.builder.parameter),
                           label: name, origin: origin)
    }
}

/// A fully connected layer, weight [out, in].
public struct Linear: Layer {
    /// What the layer does with a bias.
    public enum Bias: Sendable {
        case none, trainable
        /// Present (it is in the state_dict) but never trained, e.g. before a BN.
        case frozen
    }

    public let name: String
    let weight: Int
    let bias: Int?
    let origin: SourceLocation

    public init(_ model: Model, _ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bias = .trainable,
                file: String = #fileID, line: Int = #line) {
        self.name = name
        let initializer = Initializer.uniformFanIn(fanIn: inFeatures)
        self.weight = model.declareParameter("\(name).weight", [outFeatures, inFeatures], initializer)
        self.bias = bias == .none ? nil
            : model.declareParameter("\(name).bias", [outFeatures], initializer, trainable: bias == .trainable)
        self.origin = SourceLocation(fileID: file, line: line)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.linear(x.builder.parameter(weight), bias: bias.map(x.builder.parameter), label: name,
                 file: origin.fileID, line: origin.line)
    }
}

/// max(x, 0) as a layer (an entry of a `Sequential`).
public struct ReLU: Layer {
    public let name: String
    let origin: SourceLocation

    public init(_ name: String, file: String = #fileID, line: Int = #line) {
        self.name = name
        self.origin = SourceLocation(fileID: file, line: line)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.relu(label: name, file: origin.fileID, line: origin.line)
    }
}

/// Layers applied in order, named `<name>.<index>` like PyTorch's `nn.Sequential`
/// (parameter-free layers such as ReLU take an index too).
public struct Sequential: Layer {
    public let layers: [any Layer]

    /// Builds the layers: `Sequential(model, "projector") { s in s.linear(128, 512, bias: .none); ... }`.
    public init(_ model: Model, _ name: String, _ build: (SequentialBuilder) -> Void) {
        let builder = SequentialBuilder(model: model, name: name)
        build(builder)
        self.layers = builder.layers
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}

/// Appends numbered layers to a `Sequential` under construction.
public final class SequentialBuilder {
    /// The model the layers declare their parameters in.
    public let model: Model
    let name: String
    fileprivate(set) var layers: [any Layer] = []

    init(model: Model, name: String) {
        self.model = model
        self.name = name
    }

    private var nextName: String { "\(name).\(layers.count)" }

    public func linear(_ inFeatures: Int, _ outFeatures: Int, bias: Linear.Bias = .trainable,
                       file: String = #fileID, line: Int = #line) {
        layers.append(Linear(model, nextName, inFeatures, outFeatures, bias: bias, file: file, line: line))
    }

    public func batchNorm(_ channels: Int, affine: Bool = true, file: String = #fileID, line: Int = #line) {
        layers.append(BatchNorm(model, nextName, channels, affine: affine, file: file, line: line))
    }

    public func relu(file: String = #fileID, line: Int = #line) {
        layers.append(ReLU(nextName, file: file, line: line))
    }

    /// Appends a layer of your own, built with its state_dict name `<name>.<index>`:
    /// `s.layer { name in MyLayer(s.model, name, 64) }`.
    public func layer(_ make: (String) -> any Layer) {
        layers.append(make(nextName))
    }
}
