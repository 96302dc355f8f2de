import SimSiamIR

/// A tensor of a model's state that a layer declared with `Model.parameter`:
/// its state_dict name and shape. Read its value while tracing with
/// `x.value(of: parameter)` (or `parameter.value(in: x)`).
public struct Parameter: Hashable, Sendable {
    /// The state_dict key, e.g. `backbone.conv1.weight`.
    public let name: String
    public let shape: Shape
    /// Index into the model's `StateDecls.parameters`.
    public let index: Int
    /// The model that declared it: a graph of another model has no such parameter.
    let model: ObjectIdentifier

    /// This parameter's value in the graph that `x` belongs to.
    public func value(in x: Tensor, file: String = #fileID, line: Int = #line) -> Tensor {
        x.builder.value(of: self, file: file, line: line)
    }
}

extension Model {
    /// Declares a parameter for a layer, in the current optimizer group (see `inGroup`).
    ///
    /// - Parameters:
    ///   - name: the state_dict key; it must be new in this model.
    ///   - initializer: how `simsiam_init` fills it, e.g. `.kaimingNormalFanOut` for a
    ///     convolution weight, `.uniformFanIn(fanIn:)` for a Linear's, `.constant(1)`.
    ///   - trainable: false for a frozen parameter: it is saved and loaded, but gets no
    ///     gradient and is never updated.
    public func parameter(_ name: String, _ shape: Shape, initializer: Initializer, trainable: Bool = true) -> Parameter {
        let index = declareParameter(name, shape, initializer, trainable: trainable)
        return Parameter(name: name, shape: shape, index: index, model: ObjectIdentifier(self))
    }
}

extension Tensor {
    /// The value of `parameter` in the graph this tensor belongs to: how a layer's
    /// `callAsFunction(_ x:)` reads its own parameters.
    public func value(of parameter: Parameter, file: String = #fileID, line: Int = #line) -> Tensor {
        builder.value(of: parameter, file: file, line: line)
    }
}
