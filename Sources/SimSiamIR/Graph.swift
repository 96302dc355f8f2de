/// A value (tensor) of the graph, printed `%index`.
public struct ValueID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    /// Serialised as the bare index.
    public init(from decoder: any Decoder) throws { index = try decoder.singleValueContainer().decode(Int.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(index)
    }
    public static func < (lhs: ValueID, rhs: ValueID) -> Bool { lhs.index < rhs.index }
    public var description: String { "%\(index)" }
}

/// Which part of the training step a node belongs to.
public enum Phase: String, Hashable, Sendable, Codable {
    case forward, backward
}

/// One operation application.
public struct Node: Hashable, Sendable, Codable {
    public var op: Op
    public var operands: [ValueID]
    public var results: [ValueID]
    /// The layer path the op belongs to ("backbone.layer2.0.conv1"); generated
    /// kernels are named after it.
    public var label: String
    /// The DSL line that created the op (for backward ops: the forward op's).
    public var origin: SourceLocation?
    public var phase: Phase

    public init(
        op: Op, operands: [ValueID], results: [ValueID], label: String,
        origin: SourceLocation?, phase: Phase
    ) {
        self.op = op
        self.operands = operands
        self.results = results
        self.label = label
        self.origin = origin
        self.phase = phase
    }
}

/// Facts about a value: its shape and the node that defines it.
public struct ValueInfo: Hashable, Sendable, Codable {
    public var shape: Shape
    public var producer: Int
    public var resultIndex: Int
}

/// A static computation graph over the model's state: nodes in a valid
/// execution order (every operand defined before use), all shapes known.
///
/// The training graph holds the forward pass of both views, the backward
/// pass autodiff derived, and `accumulate_grad` nodes; the feature graph
/// holds the eval-mode backbone.
public struct Graph: Hashable, Sendable, Codable {
    public var name: String
    public var state: StateDecls
    public var inputs: [InputDecl] = []
    public private(set) var nodes: [Node] = []
    public private(set) var values: [ValueInfo] = []
    /// Named results ("loss" for a training graph, "features" for a feature graph).
    public var outputs: [String: ValueID] = [:]

    public init(name: String, state: StateDecls) {
        self.name = name
        self.state = state
    }

    /// Appends a node whose results have the given shapes and returns them.
    @discardableResult
    public mutating func append(
        _ op: Op, _ operands: [ValueID], resultShapes: [Shape], label: String,
        origin: SourceLocation?, phase: Phase = .forward
    ) -> [ValueID] {
        let nodeIndex = nodes.count
        let results = resultShapes.enumerated().map { i, shape in
            values.append(ValueInfo(shape: shape, producer: nodeIndex, resultIndex: i))
            return ValueID(values.count - 1)
        }
        nodes.append(
            Node(op: op, operands: operands, results: results, label: label, origin: origin, phase: phase))
        return results
    }

    /// Appends a node after inferring its result shapes; throws when the operands do not fit.
    @discardableResult
    public mutating func appendInferred(
        _ op: Op, _ operands: [ValueID], label: String, origin: SourceLocation?, phase: Phase = .forward
    ) throws(ShapeError) -> [ValueID] {
        let shapes = try ShapeInference.resultShapes(
            of: op, operands: operands.map { values[$0.index].shape }, state: state, inputs: inputs)
        return append(op, operands, resultShapes: shapes, label: label, origin: origin, phase: phase)
    }

    public func shape(of value: ValueID) -> Shape { values[value.index].shape }
    public func producer(of value: ValueID) -> Node { nodes[values[value.index].producer] }

    /// The same computation with no DSL lines cited: graphs traced from different
    /// files (a built-in workload and its copy in a description) compare equal.
    public func strippingOrigins() -> Graph {
        var copy = self
        for index in copy.nodes.indices { copy.nodes[index].origin = nil }
        return copy
    }

    /// Number of nodes in a phase that compute something (sources excluded).
    public func computeNodeCount(_ phase: Phase) -> Int {
        nodes.count { $0.phase == phase && !$0.op.isSource }
    }
}
