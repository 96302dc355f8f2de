import SimSiamIR

/// A shape or usage error in DSL code: names the op, the layer, the DSL line
/// and the shapes involved.
public struct DSLError: Error, CustomStringConvertible, Sendable {
    public var op: String
    public var label: String
    public var origin: SourceLocation
    public var message: String

    public var description: String {
        "\(origin): error: \(op)\(label.isEmpty ? "" : " [\(label)]"): \(message)"
    }
}

/// Traces DSL calls into a `Graph`. Shapes are checked as each op is added;
/// the first error is kept (later ops on a broken tensor are skipped) and
/// `finish()` throws it, so model code reads without `try` on every line.
public final class GraphBuilder {
    /// Training mode: BN uses batch statistics and updates running estimates.
    public let training: Bool
    public private(set) var graph: Graph
    /// The model traced, to reject another model's `Parameter`.
    private let model: ObjectIdentifier
    private var parameterValues: [Int: ValueID] = [:]
    private var firstError: DSLError?
    /// A name the model declared twice, found before tracing began.
    private let declarationError: ModelDeclarationError?

    public init(name: String, model: Model, training: Bool) {
        self.training = training
        self.graph = Graph(name: name, state: model.state)
        self.model = ObjectIdentifier(model)
        self.declarationError = model.declarationError
    }

    /// Declares a graph input such as a view of the batch.
    public func input(_ name: String, _ shape: Shape, file: String = #fileID, line: Int = #line) -> Tensor {
        graph.inputs.append(InputDecl(name: name, shape: shape))
        let id = graph.append(.input(graph.inputs.count - 1), [], resultShapes: [shape], label: name,
                              origin: SourceLocation(fileID: file, line: line))[0]
        return Tensor(builder: self, id: id, shape: shape)
    }

    /// The value of parameter `index` in this graph (one source node per parameter).
    func parameter(_ index: Int) -> Tensor {
        let shape = graph.state.parameters[index].shape
        if let id = parameterValues[index] { return Tensor(builder: self, id: id, shape: shape) }
        let id = graph.append(.parameter(index), [], resultShapes: [shape], label: graph.state.parameters[index].name, origin: nil)[0]
        parameterValues[index] = id
        return Tensor(builder: self, id: id, shape: shape)
    }

    /// The value of a `Parameter` of this graph's model; a broken tensor (and a recorded
    /// error) for another model's parameter or one declared after tracing began.
    public func value(of parameter: Parameter, file: String = #fileID, line: Int = #line) -> Tensor {
        let origin = SourceLocation(fileID: file, line: line)
        func broken(_ message: String) -> Tensor {
            if firstError == nil {
                firstError = DSLError(op: "parameter", label: parameter.name, origin: origin, message: "\(parameter.shape) \(message)")
            }
            return Tensor(builder: self, id: nil, shape: parameter.shape)
        }
        guard parameter.model == model else {
            return broken("belongs to another Model than the one graph \"\(graph.name)\" traces")
        }
        guard graph.state.parameters.indices.contains(parameter.index) else {
            return broken("was declared after graph \"\(graph.name)\" began tracing; declare parameters when the layer is constructed")
        }
        return self.parameter(parameter.index)
    }

    /// Applies `op`; returns broken tensors (and records the error) when the shapes do not fit.
    func apply(_ op: Op, _ operands: [Tensor], label: String, origin: SourceLocation) -> [Tensor] {
        let ids = operands.compactMap(\.id)
        guard ids.count == operands.count, firstError == nil else {
            return [Tensor(builder: self, id: nil, shape: [])]
        }
        do {
            let results = try graph.appendInferred(op, ids, label: label, origin: origin)
            return results.map { Tensor(builder: self, id: $0, shape: graph.shape(of: $0)) }
        } catch {
            let shapes = operands.map(\.shape.description).joined(separator: ", ")
            firstError = DSLError(op: op.mnemonic, label: label, origin: origin,
                                  message: "\(error.message) (operand shapes: \(shapes))")
            return [Tensor(builder: self, id: nil, shape: [])]
        }
    }

    /// Names a result of the graph ("loss", "features").
    public func output(_ name: String, _ tensor: Tensor) {
        if let id = tensor.id { graph.outputs[name] = id }
    }

    /// The traced graph, or the first error met while tracing.
    public func finish() throws -> Graph {
        if let declarationError { throw declarationError }
        if let firstError { throw firstError }
        try Verifier.verify(graph)
        return graph
    }
}

/// A tensor being traced: a value of the graph under construction.
public struct Tensor {
    let builder: GraphBuilder
    /// nil when an earlier error broke this tensor.
    let id: ValueID?
    public let shape: Shape
}
