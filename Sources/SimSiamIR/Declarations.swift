/// How a parameter or buffer gets its first value (the spec's initialisers).
public enum Initializer: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Kaiming normal, fan_out mode, ReLU gain: std = sqrt(2 / (out * kh * kw)).
    case kaimingNormalFanOut
    /// PyTorch's default Linear init: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case uniformFanIn(fanIn: Int)
    /// Every element equal to the value (BN gamma 1, beta 0, zero-init residual gamma 0).
    case constant(Double)
    /// Normal(0, std), e.g. `nn.init.normal_(w, std=0.01)`.
    case normal(std: Double)

    public var description: String {
        switch self {
        case .kaimingNormalFanOut: "kaiming_normal(fan_out)"
        case .uniformFanIn(let fanIn): "uniform(fan_in=\(fanIn))"
        case .constant(let value): "constant(\(value))"
        case .normal(let std): "normal(std=\(std))"
        }
    }
}

/// A learnable (or frozen) tensor, named as in the PyTorch state_dict.
public struct ParameterDecl: Hashable, Sendable, Codable {
    public var name: String
    public var shape: Shape
    public var initializer: Initializer
    /// Frozen parameters (e.g. the bias before the projector's last BN) get no
    /// gradient and are never updated.
    public var isTrainable: Bool
    /// Index into `Graph.groups`: which learning rate the optimizer applies.
    public var group: Int

    public init(name: String, shape: Shape, initializer: Initializer, isTrainable: Bool, group: Int) {
        self.name = name
        self.shape = shape
        self.initializer = initializer
        self.isTrainable = isTrainable
        self.group = group
    }
}

/// Non-learnable state a training step updates: BN running statistics.
public struct BufferDecl: Hashable, Sendable, Codable {
    public enum Role: String, Hashable, Sendable, Codable { case runningMean = "running_mean", runningVar = "running_var" }
    public var name: String
    public var shape: Shape
    public var role: Role

    public init(name: String, shape: Shape, role: Role) {
        self.name = name
        self.shape = shape
        self.role = role
    }
}

/// An int64 counter in the state (BN `num_batches_tracked`).
public struct CounterDecl: Hashable, Sendable, Codable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// A tensor fed to the graph from outside (a view of the batch).
public struct InputDecl: Hashable, Sendable, Codable {
    public var name: String
    public var shape: Shape
    public init(name: String, shape: Shape) {
        self.name = name
        self.shape = shape
    }
}

/// Everything a model owns across graphs: the training graph and the
/// feature-extraction graph of one model share this table, so they share
/// one arena layout.
public struct StateDecls: Hashable, Sendable, Codable {
    public var parameters: [ParameterDecl] = []
    public var buffers: [BufferDecl] = []
    public var counters: [CounterDecl] = []
    /// Optimizer groups, e.g. ["encoder", "predictor"].
    public var groups: [String] = []

    public init() {}
}
