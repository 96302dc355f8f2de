import SimSiamIR

/// The state a model declares: parameters, BN buffers and counters, and the
/// optimizer group each parameter belongs to. Layers register their tensors
/// here when constructed; every graph traced from the model shares it.
public final class Model {
    public private(set) var state = StateDecls()
    private var currentGroup = 0
    /// The first name declared twice; tracing a graph of this model throws it
    /// (a layer's initializer cannot throw, and a crash would lose the message).
    public private(set) var declarationError: ModelDeclarationError?

    /// Creates a model whose parameters start in the optimizer group `defaultGroup`.
    public init(defaultGroup: String = "encoder") {
        state.groups = [defaultGroup]
    }

    /// Parameters declared inside `body` go to the optimizer group `name`
    /// (created on first use), e.g. the predictor, whose lr may stay fixed.
    public func inGroup<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let saved = currentGroup
        if let index = state.groups.firstIndex(of: name) {
            currentGroup = index
        } else {
            state.groups.append(name)
            currentGroup = state.groups.count - 1
        }
        defer { currentGroup = saved }
        return try body()
    }

    /// Declares a parameter; the name must be new (it is the state_dict key).
    public func declareParameter(_ name: String, _ shape: Shape, _ initializer: Initializer, trainable: Bool = true) -> Int {
        if declarationError == nil && state.parameters.contains(where: { $0.name == name }) {
            declarationError = ModelDeclarationError(kind: "parameter", name: name)
        }
        state.parameters.append(
            ParameterDecl(name: name, shape: shape, initializer: initializer, isTrainable: trainable, group: currentGroup))
        return state.parameters.count - 1
    }

    public func declareBuffer(_ name: String, _ shape: Shape, role: BufferDecl.Role) -> Int {
        if declarationError == nil && state.buffers.contains(where: { $0.name == name }) {
            declarationError = ModelDeclarationError(kind: "buffer", name: name)
        }
        state.buffers.append(BufferDecl(name: name, shape: shape, role: role))
        return state.buffers.count - 1
    }

    public func declareCounter(_ name: String) -> Int {
        state.counters.append(CounterDecl(name: name))
        return state.counters.count - 1
    }
}

/// Two tensors of a model under one state_dict name: two layers were given the same name.
public struct ModelDeclarationError: Error, CustomStringConvertible, Sendable {
    public var kind: String
    public var name: String

    public var description: String {
        "\(kind) \(name) is declared twice: two layers share the name \"\(name.split(separator: ".").dropLast().joined(separator: "."))\"; give each layer its own"
    }
}
